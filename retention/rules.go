package retention

import (
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/spanrec/spanrec"
)

// Rule is one retention rule: the calls it matches are deleted once older
// than MaxAge. Empty matchers match every call.
type Rule struct {
	// Name names the rule in logs and in the audit entries of the calls
	// it deletes; default "rule N" (its position, from 1).
	Name string
	// Direction, if set, matches only calls of this direction.
	Direction spanrec.Direction
	// Number, if set, is a pattern matched against the caller's and the
	// callee's numbers (path.Match syntax: * any digits, ? one, [0-4] a
	// class); one match is enough.
	Number string
	// Sensor, if set, is a pattern (the same syntax) or a name matched
	// against the sensor that recorded the call (Call.Sensor): a rule for
	// one branch office's recorder, or for "branch-*". A call of no known
	// sensor ("") matches only a pattern that matches the empty name
	// ("*").
	Sensor string
	// MaxAge is the age, from the call's start, past which a call the
	// rule matches is deleted; 0 keeps the calls it matches for ever
	// (an exception placed before broader rules).
	MaxAge time.Duration
}

// Matches reports whether the rule applies to c.
func (r *Rule) Matches(c *spanrec.Call) bool {
	if r.Direction != "" && c.Direction != r.Direction {
		return false
	}
	if r.Sensor != "" {
		if ok, _ := path.Match(r.Sensor, c.Sensor); !ok {
			return false
		}
	}
	if r.Number != "" {
		a, _ := path.Match(r.Number, c.Caller.Number)
		b, _ := path.Match(r.Number, c.Callee.Number)
		if !a && !b {
			return false
		}
	}
	return true
}

// Check reports what is wrong with the rule (a malformed pattern, a
// negative age, an unknown direction).
func (r *Rule) Check() error {
	var errs []string
	if _, err := path.Match(r.Number, ""); err != nil {
		errs = append(errs, fmt.Sprintf("number %q is not a pattern", r.Number))
	}
	if _, err := path.Match(r.Sensor, ""); err != nil {
		errs = append(errs, fmt.Sprintf("sensor %q is not a pattern", r.Sensor))
	}
	switch r.Direction {
	case "", spanrec.Inbound, spanrec.Outbound, spanrec.Internal, spanrec.Unknown:
	default:
		errs = append(errs, fmt.Sprintf("direction %q: want inbound, outbound, internal or unknown", r.Direction))
	}
	if r.MaxAge < 0 {
		errs = append(errs, "max_age must not be negative")
	}
	if len(errs) > 0 {
		return fmt.Errorf("retention rule %s: %s", r.Name, strings.Join(errs, "; "))
	}
	return nil
}

// rule returns the first of rules that matches c, or nil.
func rule(rules []Rule, c *spanrec.Call) *Rule {
	for i := range rules {
		if rules[i].Matches(c) {
			return &rules[i]
		}
	}
	return nil
}

// FormatAge writes an age in days when it is a whole number of days
// ("90d"), else as a time.Duration.
func FormatAge(d time.Duration) string {
	const day = 24 * time.Hour
	if d > 0 && d%day == 0 {
		return fmt.Sprintf("%dd", d/day)
	}
	return d.String()
}

// ParseAge parses an age: a time.Duration ("36h") or a number of days,
// weeks or years (of 365 days) ("90d", "2w", "7y").
func ParseAge(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "0" {
		return 0, nil
	}
	for suffix, unit := range map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour, "y": 365 * 24 * time.Hour} {
		if num, ok := strings.CutSuffix(s, suffix); ok {
			var n int64
			if _, err := fmt.Sscanf(num, "%d", &n); err != nil || fmt.Sprint(n) != num || n < 0 || n > 200*365 {
				return 0, fmt.Errorf("age %q: want a duration (36h) or a whole number of days, weeks or years (90d, 2w, 7y)", s)
			}
			return time.Duration(n) * unit, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("age %q: want a duration (36h) or a whole number of days, weeks or years (90d, 2w, 7y)", s)
	}
	return d, nil
}
