package cassandra

import "testing"

func TestSkipValue(t *testing.T) {
	for _, c := range []struct {
		in  string
		end int // -1: an error
	}{
		{`"abc",1`, 5},
		{`"a\"b"}`, 6},
		{`"abc\\"]`, 7},
		{`"\\\""x`, 6},
		{`"\"`, -1},
		{`"abc`, -1},
		{`"a\`, -1},
		{`[1,"]",{"k":"}"}],`, 17},
		{`123,`, 3},
		{`null}`, 4},
	} {
		end, err := skipValue(c.in, 0)
		if c.end < 0 {
			if err == nil {
				t.Errorf("skipValue(%q) = %d, want an error", c.in, end)
			}
			continue
		}
		if err != nil || end != c.end {
			t.Errorf("skipValue(%q) = %d, %v; want %d", c.in, end, err, c.end)
		}
	}
}
