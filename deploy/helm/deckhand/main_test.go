package deckhand_test

import (
	"testing"

	"github.com/deckhand-dev/deckhand/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }
