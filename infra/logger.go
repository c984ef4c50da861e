package infra

import (
	"fmt"
	"log/slog"
	"os"
	"strings"
)

// logLevel is the level of the Temporal SDK's log (the CLI's --log-level
// and -v); warnings and errors by default.
var logLevel = func() *slog.LevelVar {
	v := new(slog.LevelVar)
	v.Set(slog.LevelWarn)
	return v
}()

var logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel}))

// SetLogLevel sets the level of the Temporal SDK's log: debug, info, warn
// or error.
func SetLogLevel(level string) error {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return fmt.Errorf("log level %q: want debug, info, warn or error", level)
	}
	logLevel.Set(l)
	return nil
}

// quietLogger passes the Temporal SDK's log to slog at the level set by
// SetLogLevel (warnings and errors by default), without the harmless
// "worker heartbeating … not supported" notice of older servers.
type quietLogger struct{}

func (quietLogger) Debug(msg string, kv ...any) { logger.Debug(msg, kv...) }
func (quietLogger) Info(msg string, kv ...any)  { logger.Info(msg, kv...) }
func (quietLogger) Warn(msg string, kv ...any) {
	if strings.Contains(msg, "heartbeating") {
		return
	}
	logger.Warn(msg, kv...)
}
func (quietLogger) Error(msg string, kv ...any) { logger.Error(msg, kv...) }
