package infra

import (
	"log/slog"
	"os"
	"strings"
)

// quietLogger passes the Temporal SDK's warnings and errors to slog and
// drops its info and debug chatter (and the harmless "worker heartbeating …
// not supported" notice of older servers).
type quietLogger struct{}

func (quietLogger) Debug(string, ...any) {}
func (quietLogger) Info(string, ...any)  {}
func (quietLogger) Warn(msg string, kv ...any) {
	if strings.Contains(msg, "heartbeating") {
		return
	}
	logger.Warn(msg, kv...)
}
func (quietLogger) Error(msg string, kv ...any) { logger.Error(msg, kv...) }

var logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
