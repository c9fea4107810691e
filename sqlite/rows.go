package sqlite

import (
	"context"
	"strings"
)

// multiInsert is an INSERT of many rows of one table in few statements:
// the rows a call stores in several (its INVITE's header fields, its
// addresses, streams, quality series, DTMF, link keys) go in statements
// of multiRowSizes rows each, prepared once with the writer's other
// statements, instead of one statement per row. (Such a statement keeps
// the pages it changes in a statement journal, in memory: temp_store.)
type multiInsert struct {
	width   int      // columns per row
	queries []string // by multiRowSizes
}

// multiRowSizes are the row counts of a multiInsert's statements, largest
// first: 12 header rows take 2 statements, 64 take 2, 2 streams 1.
var multiRowSizes = []int{32, 16, 8, 4, 2, 1}

// newMultiInsert returns the multiInsert of head ("INSERT INTO t (a, b)")
// with width columns per row.
func newMultiInsert(head string, width int) *multiInsert {
	row := "(" + strings.Repeat("?, ", width-1) + "?)"
	m := &multiInsert{width: width}
	for _, n := range multiRowSizes {
		m.queries = append(m.queries, head+" VALUES "+strings.Repeat(row+", ", n-1)+row)
	}
	return m
}

// exec inserts the rows of args (width values per row, in order), and
// keeps args for tx.rows.
func (m *multiInsert) exec(ctx context.Context, db *DB, tx *wtx, args []any) error {
	defer func(all []any) {
		clear(all)
		tx.vals = all[:0]
	}(args)
	for i, n := range multiRowSizes {
		for len(args) >= n*m.width {
			if err := db.exec(ctx, tx, m.queries[i], args[:n*m.width]...); err != nil {
				return err
			}
			args = args[n*m.width:]
		}
	}
	return nil
}
