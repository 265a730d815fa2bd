// Package fake is a lint fixture.
package fake
