package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/spanrec/spanrec/s3"
)

// storeCredentials is the store_credentials section of the configuration
// file: the central store's keys when the AWS_* variables are not set.
type storeCredentials struct {
	AccessKey    string `yaml:"access_key"`
	SecretKey    string `yaml:"secret_key"`
	SessionToken string `yaml:"session_token"`
}

// storeFlag registers --store on fs (default $SPANREC_STORE), for the
// commands that reach the central object store.
func storeFlag(fs *flag.FlagSet, use string) *string {
	return fs.String("store", os.Getenv("SPANREC_STORE"), use+": s3://BUCKET/PREFIX?endpoint=http://HOST:PORT&region=R (default: config store; credentials from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, else config store_credentials)")
}

// storeURL is the store URL in force: --store, else SPANREC_STORE, else
// the configuration's store; "" for none.
func (e *env) storeURL(fs *flag.FlagSet, flagValue string) string {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == "store" })
	if !set && os.Getenv("SPANREC_STORE") == "" {
		return e.cfg.Store
	}
	return flagValue
}

// openStore connects to the object store at url with the credentials of
// the environment (AWS_*), else of the configuration file. No error
// carries a credential (package s3).
func (e *env) openStore(ctx context.Context, url string) (*s3.Store, error) {
	cfg := s3.Config{URL: url}
	if os.Getenv("AWS_ACCESS_KEY_ID") == "" && e.cfg.StoreCredentials.AccessKey != "" {
		c := e.cfg.StoreCredentials
		cfg.AccessKey, cfg.SecretKey, cfg.SessionToken = c.AccessKey, c.SecretKey, c.SessionToken
	}
	st, err := s3.Open(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return st, nil
}
