package sources

import (
	"runtime"
	"testing"
)

func TestRaiseForIO(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, tc := range []struct {
		name, env string
		want      int
	}{
		{"unset: twice the CPUs", "", 2 * CPUs()},
		{"GOMAXPROCS set: left alone", "3", CPUs()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runtime.GOMAXPROCS(CPUs())
			t.Setenv("GOMAXPROCS", tc.env)
			RaiseForIO()
			if got := runtime.GOMAXPROCS(0); got != tc.want {
				t.Errorf("GOMAXPROCS after RaiseForIO = %d, want %d", got, tc.want)
			}
			if got := CPUs(); got != cpus || got < 1 {
				t.Errorf("CPUs() = %d after RaiseForIO, want the start value %d", got, cpus)
			}
		})
	}
}
