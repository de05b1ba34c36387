package hook

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// Env vars of the shell-operator file protocol.
const (
	EnvBindingContextPath     = "BINDING_CONTEXT_PATH"
	EnvKubernetesPatchPath    = "KUBERNETES_PATCH_PATH"
	EnvMetricsPath            = "METRICS_PATH"
	EnvValidatingResponsePath = "VALIDATING_RESPONSE_PATH"
	EnvAdmissionResponsePath  = "ADMISSION_RESPONSE_PATH"
	EnvConversionResponsePath = "CONVERSION_RESPONSE_PATH"
)

// Env vars a module-sdk bundle hook gets about its owner (addon-operator).
const (
	EnvModuleName           = "MODULE_NAME"
	EnvApplicationName      = "APPLICATION_NAME"
	EnvApplicationNamespace = "APPLICATION_NAMESPACE"
)

// DefaultTimeout is how long deckhand's commands let one hook run before
// they kill its process group (--hook-timeout).
const DefaultTimeout = 10 * time.Minute

// stderrTailLines is how many last stderr lines a RunError carries.
const stderrTailLines = 10

// Executor runs a hook once for a list of binding contexts.
type Executor interface {
	Run(ctx context.Context, h *Hook, contexts []BindingContext, opts RunOptions) (*Result, error)
}

// RunOptions are the knobs of one hook run.
type RunOptions struct {
	// TmpDir is where the per-run directory with the protocol files is made;
	// "" means os.TempDir().
	TmpDir string
	// Env is appended to the operator's own environment (os.Environ()).
	Env []string
	// Inputs are extra files handed to the hook: env var name -> content
	// (addon-operator: VALUES_PATH, CONFIG_VALUES_PATH).
	Inputs map[string][]byte
	// Outputs are extra env var names that get a pre-created empty file whose
	// content is returned in Result.Outputs (addon-operator:
	// VALUES_JSON_PATCH_PATH, CONFIG_VALUES_JSON_PATCH_PATH).
	Outputs []string
	// Logger receives the hook's stdout and stderr, one record per line,
	// with attributes hook and output; nil means slog.Default().
	Logger *slog.Logger
	// KeepFiles leaves the per-run directory in place (DEBUG_KEEP_TMP_FILES).
	KeepFiles bool
	// ProxyJSONLogs turns output lines holding a JSON object into structured
	// records (msg, level, fields), as shell-operator does with
	// LOG_PROXY_HOOK_JSON=true; otherwise every line is logged verbatim.
	ProxyJSONLogs bool
	// OutputWait bounds how long Run waits for stdout/stderr to close after
	// the hook exited (a background child may hold them); 0 means 5s.
	OutputWait time.Duration
	// ModuleName, ApplicationName and ApplicationNamespace are passed to
	// module-sdk bundle hooks (Hook.Batch set) as MODULE_NAME,
	// APPLICATION_NAME and APPLICATION_NAMESPACE when not empty.
	ModuleName           string
	ApplicationName      string
	ApplicationNamespace string
}

// Result is what a hook run produced. Files are returned raw: parsing
// patches and metrics belongs to internal/kube and internal/metrics.
type Result struct {
	// KubernetesPatch is the content of KUBERNETES_PATCH_PATH.
	KubernetesPatch []byte
	// Metrics is the content of METRICS_PATH.
	Metrics []byte
	// AdmissionResponse and ConversionResponse are the webhook response
	// files (always empty for hooks deckhand runs today).
	AdmissionResponse  []byte
	ConversionResponse []byte
	// Outputs maps each RunOptions.Outputs env var to its file's content.
	Outputs map[string][]byte
	// ExitCode is the process exit code (-1 when killed by a signal).
	ExitCode int
	// Duration is the wall time of the process.
	Duration time.Duration
	// UserCPU, SystemCPU and MaxRSSBytes come from the process rusage.
	UserCPU, SystemCPU time.Duration
	MaxRSSBytes        int64
}

// RunError is returned when a hook exits non-zero or is killed.
type RunError struct {
	Hook     string
	ExitCode int
	// Stderr holds the last lines the hook wrote to stderr.
	Stderr []string
	Err    error
}

func (e *RunError) Error() string {
	msg := fmt.Sprintf("hook %s failed: %v", e.Hook, e.Err)
	if len(e.Stderr) > 0 {
		msg += ": " + strings.Join(e.Stderr, "\n")
	}
	return msg
}

func (e *RunError) Unwrap() error { return e.Err }

// ShellExecutor runs executable hooks as separate processes.
type ShellExecutor struct{}

var _ Executor = ShellExecutor{}

// Run runs h with the shell-operator file protocol. See ShellExecutor.Run.
func Run(ctx context.Context, h *Hook, contexts []BindingContext, opts RunOptions) (*Result, error) {
	return ShellExecutor{}.Run(ctx, h, contexts, opts)
}

// Run writes the binding contexts (in the hook's config version) to
// BINDING_CONTEXT_PATH, pre-creates the output files, runs the hook in the
// directory of its file (Path with Hook.Args, through Hook.Interpreter when
// set, with Hook.Env added), logs its output line by line and
// returns the output files. A non-zero exit is a *RunError; the output
// files are still returned with it (a failed hook's patches may matter).
// Cancelling ctx kills the hook's whole process group; what is left of the
// group when the hook exits (background processes) is killed too.
func (ShellExecutor) Run(ctx context.Context, h *Hook, contexts []BindingContext, opts RunOptions) (*Result, error) {
	dir, err := os.MkdirTemp(opts.TmpDir, "hook-"+safeName(h.Name)+"-")
	if err != nil {
		return nil, fmt.Errorf("hook %s: creating run directory: %w", h.Name, err)
	}
	if !opts.KeepFiles {
		defer func() {
			if err := os.RemoveAll(dir); err != nil {
				opts.logger().Warn("removing hook run directory", "hook", h.Name, "dir", dir, "error", err)
			}
		}()
	}
	env, err := prepareFiles(dir, h, contexts, opts)
	if err != nil {
		return nil, fmt.Errorf("hook %s: %w", h.Name, err)
	}

	logger := opts.logger().With(slog.String("hook", h.Name))

	prog, args := h.command()
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Dir = filepath.Dir(h.Path)
	cmd.Env = append(append(append(os.Environ(), opts.Env...), h.Env...), env...)
	if h.Batch != nil {
		cmd.Env = append(cmd.Env, opts.ownerEnv()...)
	}
	ownProcessGroup(cmd)
	// Grandchildren holding the pipes must not keep Run waiting forever.
	cmd.WaitDelay = opts.OutputWait
	if cmd.WaitDelay == 0 {
		cmd.WaitDelay = 5 * time.Second
	}

	res := &Result{}
	stderrLog, runErr := runLogged(cmd, logger, opts.ProxyJSONLogs)
	if err := killLeftovers(cmd); err != nil {
		logger.Warn("killing the processes the hook left running", "error", err)
	}
	if errors.Is(runErr, exec.ErrWaitDelay) && cmd.ProcessState != nil && cmd.ProcessState.Success() {
		// The hook succeeded; only a process it left behind kept the
		// output open (now killed). shell-operator would hang here.
		logger.Warn("hook exited but a background process kept its output open; output after exit is lost and the process was killed")
		runErr = nil
	}
	res.ExitCode = -1
	if cmd.ProcessState != nil {
		res.ExitCode = cmd.ProcessState.ExitCode()
		res.UserCPU = cmd.ProcessState.UserTime()
		res.SystemCPU = cmd.ProcessState.SystemTime()
		res.MaxRSSBytes = maxRSS(cmd.ProcessState)
	}
	if err := readOutputs(env, opts, res); err != nil {
		return nil, fmt.Errorf("hook %s: %w", h.Name, err)
	}
	if runErr != nil {
		if ctx.Err() != nil {
			runErr = fmt.Errorf("%w (%w)", ctx.Err(), runErr)
		}
		return res, &RunError{Hook: h.Name, ExitCode: res.ExitCode, Stderr: stderrLog.last(), Err: runErr}
	}
	return res, nil
}

// ownerEnv is what a bundle hook is told about its module or application.
func (o RunOptions) ownerEnv() []string {
	var env []string
	for _, kv := range [][2]string{
		{EnvModuleName, o.ModuleName},
		{EnvApplicationName, o.ApplicationName},
		{EnvApplicationNamespace, o.ApplicationNamespace},
	} {
		if kv[1] != "" {
			env = append(env, kv[0]+"="+kv[1])
		}
	}
	return env
}

// logger returns Logger or, without one, slog.Default().
func (o RunOptions) logger() *slog.Logger {
	if o.Logger == nil {
		return slog.Default()
	}
	return o.Logger
}

// runLogged runs cmd with stdout/stderr streamed into logger.
func runLogged(cmd *exec.Cmd, logger *slog.Logger, parseJSON bool) (*lineLogger, error) {
	stdoutLog := &lineLogger{log: logger, stream: "stdout", parseJSON: parseJSON}
	stderrLog := &lineLogger{log: logger, stream: "stderr", keep: stderrTailLines, parseJSON: parseJSON}
	cmd.Stdout, cmd.Stderr = stdoutLog, stderrLog
	err := cmd.Run()
	stdoutLog.flush()
	stderrLog.flush()
	return stderrLog, err
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// safeName turns a hook name into a file name fragment.
func safeName(name string) string {
	s := strings.Trim(unsafeChars.ReplaceAllString(name, "-"), "-")
	if len(s) > 60 {
		s = s[len(s)-60:]
	}
	return s
}

// prepareFiles writes the binding context and inputs and creates the empty
// output files; it returns the env entries pointing at them.
func prepareFiles(dir string, h *Hook, contexts []BindingContext, opts RunOptions) ([]string, error) {
	version := h.Config.Version
	if version == "" {
		version = ConfigV1
	}
	ctxPath := filepath.Join(dir, "binding-context.json")
	f, err := os.Create(ctxPath)
	if err != nil {
		return nil, fmt.Errorf("creating binding context file: %w", err)
	}
	werr := WriteContexts(f, version, contexts)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return nil, fmt.Errorf("writing binding context: %w", werr)
	}
	env := []string{EnvBindingContextPath + "=" + ctxPath}
	admission := filepath.Join(dir, "admission-response.json")
	files := []struct{ env, path string }{
		{EnvMetricsPath, filepath.Join(dir, "metrics.json")},
		{EnvKubernetesPatchPath, filepath.Join(dir, "kubernetes-patch.json")},
		{EnvValidatingResponsePath, admission},
		{EnvAdmissionResponsePath, admission},
		{EnvConversionResponsePath, filepath.Join(dir, "conversion-response.json")},
	}
	for _, name := range opts.Outputs {
		files = append(files, struct{ env, path string }{name, filepath.Join(dir, strings.ToLower(name))})
	}
	for _, fl := range files {
		if err := os.WriteFile(fl.path, nil, 0o644); err != nil {
			return nil, fmt.Errorf("creating %s file: %w", fl.env, err)
		}
		env = append(env, fl.env+"="+fl.path)
	}
	for name, content := range opts.Inputs {
		p := filepath.Join(dir, strings.ToLower(name))
		if err := os.WriteFile(p, content, 0o644); err != nil {
			return nil, fmt.Errorf("writing %s file: %w", name, err)
		}
		env = append(env, name+"="+p)
	}
	return env, nil
}

// readOutputs reads the output files named in env into res.
func readOutputs(env []string, opts RunOptions, res *Result) error {
	paths := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		paths[k] = v
	}
	read := func(name string) ([]byte, error) {
		b, err := os.ReadFile(paths[name])
		if errors.Is(err, os.ErrNotExist) {
			// A hook that removed its output file wrote nothing.
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", name, err)
		}
		return b, nil
	}
	var err error
	if res.KubernetesPatch, err = read(EnvKubernetesPatchPath); err != nil {
		return err
	}
	if res.Metrics, err = read(EnvMetricsPath); err != nil {
		return err
	}
	if res.AdmissionResponse, err = read(EnvAdmissionResponsePath); err != nil {
		return err
	}
	if res.ConversionResponse, err = read(EnvConversionResponsePath); err != nil {
		return err
	}
	for _, name := range opts.Outputs {
		b, err := read(name)
		if err != nil {
			return err
		}
		if res.Outputs == nil {
			res.Outputs = map[string][]byte{}
		}
		res.Outputs[name] = b
	}
	return nil
}
