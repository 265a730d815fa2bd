package main

import (
	"slices"
	"testing"
)

func TestMongoScope(t *testing.T) {
	cases := []struct {
		only       []string
		dbs, colls []string
	}{
		{nil, nil, nil},
		{[]string{"shop"}, []string{"shop"}, nil},
		{[]string{"shop/orders", "admin/system.users"}, []string{"shop", "admin"}, []string{"shop.orders", "admin.system.users"}},
		{[]string{"shop/orders", "crm"}, []string{"shop", "crm"}, nil},
		{[]string{"shop/ord*"}, []string{"shop"}, nil},
		{[]string{"sh*p/orders"}, nil, nil},
		{[]string{"shop/orders", "*"}, nil, nil},
	}
	for _, tc := range cases {
		dbs, colls := mongoScope(tc.only)
		if !slices.Equal(dbs, tc.dbs) || !slices.Equal(colls, tc.colls) {
			t.Errorf("mongoScope(%q) = %q, %q; want %q, %q", tc.only, dbs, colls, tc.dbs, tc.colls)
		}
	}
}
