package engine

import "context"

// Refresh brings the engine's view of the store up to date with what
// other processes wrote or removed (a CLI backup, a forget): a
// long-running process calls it now and then, as the mount's refresh
// loop does. It opens the store if needed.
func (e *Engine) Refresh(ctx context.Context) error {
	st, err := e.store(ctx)
	if err != nil {
		return err
	}
	return st.Refresh(ctx)
}
