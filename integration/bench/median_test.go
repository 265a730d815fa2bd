package main

import (
	"errors"
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
