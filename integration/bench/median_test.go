package main

import (
	"errors"
	"strings"
	"testing"
)

func TestMedianOf(t *testing.T) {
	for _, tc := range []struct {
		name string
		runs []float64
		want float64
	}{
		{"one", []float64{7}, 7},
		{"odd, unsorted", []float64{3, 1, 2}, 2},
		{"even: the upper middle", []float64{4, 1, 3, 2}, 3},
		{"an outlier", []float64{10, 1000, 11}, 11},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var seen []int
			got, err := medianOf(len(tc.runs), func(i int) (float64, error) {
				seen = append(seen, i)
				return tc.runs[i], nil
			})
			if err != nil || got != tc.want || len(seen) != len(tc.runs) {
				t.Fatalf("median of %v = %v (%v) after runs %v, want %v", tc.runs, got, err, seen, tc.want)
			}
		})
	}
	boom := errors.New("boom")
	runs := 0
	if _, err := medianOf(3, func(i int) (float64, error) {
		runs++
		if i == 1 {
			return 0, boom
		}
		return 1, nil
	}); !errors.Is(err, boom) || runs != 2 {
		t.Fatalf("a failing run: %v after %d runs, want boom after 2", err, runs)
	}
}

// TestInterleaved checks that runs take turns, each gets its own median,
// and a failing one stops only its own turns.
func TestInterleaved(t *testing.T) {
	boom := errors.New("boom")
	var order []string
	a := []float64{5, 1, 3}
	runs := []func(int) (float64, error){
		func(i int) (float64, error) { order = append(order, "a"); return a[i], nil },
		func(i int) (float64, error) {
			order = append(order, "b")
			if i == 1 {
				return 0, boom
			}
			return 9, nil
		},
		func(i int) (float64, error) { order = append(order, "c"); return float64(10 * (i + 1)), nil },
	}
	vs, errs := interleaved(3, []string{"a", "b", "c"}, runs)
	if got, want := strings.Join(order, ""), "abcabcac"; got != want {
		t.Fatalf("order %s, want %s", got, want)
	}
	if vs[0] != 3 || errs[0] != nil || vs[2] != 20 || errs[2] != nil {
		t.Fatalf("medians %v, errors %v: want 3 and 20 without errors", vs, errs)
	}
	if !errors.Is(errs[1], boom) {
		t.Fatalf("the failing run's error is %v, want boom", errs[1])
	}
}
