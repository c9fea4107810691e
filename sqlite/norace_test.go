//go:build !race

package sqlite_test

// raceSkip is nil without -race: TestConformance runs the whole suite
// (race_test.go).
var raceSkip []string
