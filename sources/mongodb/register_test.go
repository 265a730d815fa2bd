package mongodb

import (
	"slices"
	"testing"
)

func TestScope(t *testing.T) {
	cases := []struct {
		only       []string
		dbs, colls []string
	}{
		{nil, nil, nil},
		{[]string{"shop"}, []string{"shop"}, nil},
		{[]string{"shop/orders", "admin/system.users"}, []string{"shop", "admin"}, []string{"shop.orders", "admin.system.users"}},
		{[]string{"admin/system.users", "crm"}, []string{"admin", "crm"}, []string{"admin.system.users"}},
		{[]string{"shop/ord*"}, []string{"shop"}, nil},
		{[]string{"sh*p/orders"}, nil, nil},
		{[]string{"admin/system.users", "*"}, nil, []string{"admin.system.users"}},
		{[]string{"shop/50%25off"}, []string{"shop"}, []string{"shop.50%off"}}, // as the store shows it
		{[]string{"shop/50%off"}, []string{"shop"}, nil},                       // not an escaped name: left to the filter
	}
	for _, tc := range cases {
		dbs, colls := Scope(tc.only)
		if !slices.Equal(dbs, tc.dbs) || !slices.Equal(colls, tc.colls) {
			t.Errorf("Scope(%q) = %q, %q; want %q, %q", tc.only, dbs, colls, tc.dbs, tc.colls)
		}
	}
}
