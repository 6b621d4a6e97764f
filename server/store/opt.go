package store

import (
	"database/sql"

	"github.com/impactcom/impactctl/server/service"
)

// The domain's optional values (service.Opt) meet nullable columns here: scanOpt
// reads a column into one (NULL: absent), bindOpt writes one (absent: NULL).

// scanOpt is a Scan destination that reads a nullable column into o.
func scanOpt[T any](o *service.Opt[T]) sql.Scanner { return optScanner[T]{o} }

type optScanner[T any] struct{ o *service.Opt[T] }

func (s optScanner[T]) Scan(src any) error {
	var n sql.Null[T]
	if err := n.Scan(src); err != nil {
		return err
	}
	*s.o = service.Opt[T]{V: n.V, Valid: n.Valid}
	return nil
}

// bindOpt is o as a nullable column's argument.
func bindOpt[T any](o service.Opt[T]) sql.Null[T] { return sql.Null[T]{V: o.V, Valid: o.Valid} }
