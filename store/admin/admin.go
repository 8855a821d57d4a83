package admin

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sacrum-dev/sacrum/store"
)

// TokenEnv is the environment variable that supplies the bearer token when the configuration has none.
const TokenEnv = "SACRUM_ADMIN_TOKEN"

// DefaultListen binds the admin server to the loopback interface only.
const DefaultListen = "127.0.0.1:8080"

// Config configures the admin server.
type Config struct {
	Token    string              // bearer token for POST/PUT; empty refuses every change (401)
	ShowPHI  bool                // show patient names on the queue page and in the API
	Gatherer prometheus.Gatherer // metrics registry; nil serves an empty /metrics
	Logger   *slog.Logger
	Now      func() time.Time // for ages on the queue page (tests); nil = time.Now
}

// Handler serves the admin endpoints for st.
func Handler(st *store.Store, cfg Config) http.Handler {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Gatherer == nil {
		cfg.Gatherer = prometheus.NewRegistry()
	}
	h := &handler{st: st, cfg: cfg, page: template.Must(template.New("page").Funcs(template.FuncMap{
		"age": func(t time.Time) string { return Age(cfg.Now().Sub(t)) },
	}).Parse(pageHTML))}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /readyz", h.readyz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(cfg.Gatherer, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /api/v1/studies", h.list)
	mux.HandleFunc("GET /api/v1/studies/{uid}", h.detail)
	mux.HandleFunc("POST /api/v1/studies/{uid}/retry", h.auth(h.retry))
	mux.HandleFunc("POST /api/v1/studies/{uid}/cancel", h.auth(h.cancel))
	mux.HandleFunc("PUT /api/v1/clinical/{accession}", h.auth(h.putClinical))
	mux.HandleFunc("GET /api/v1/clinical/{accession}", h.auth(h.getClinical))
	mux.HandleFunc("GET /{$}", h.queuePage)
	return mux
}

// Serve listens on addr and serves until ctx is done.
func Serve(ctx context.Context, addr string, h http.Handler, ready func(net.Addr)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("admin: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	if ready != nil {
		ready(ln.Addr())
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("admin: %w", err)
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
		return nil
	}
}

type handler struct {
	st   *store.Store
	cfg  Config
	page *template.Template
}

func (h *handler) readyz(w http.ResponseWriter, r *http.Request) {
	if err := h.st.Ready(); err != nil {
		http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	io.WriteString(w, "ready\n")
}

// auth requires "Authorization: Bearer <token>"; with no token configured every request is refused.
func (h *handler) auth(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if h.cfg.Token == "" || !ok || subtle.ConstantTimeCompare([]byte(got), []byte(h.cfg.Token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="sacrum"`)
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "a valid bearer token is required (admin.token or " + TokenEnv + ")"})
			return
		}
		next(w, r)
	}
}

func (h *handler) list(w http.ResponseWriter, r *http.Request) {
	var state store.State
	if q := r.URL.Query().Get("state"); q != "" {
		s, err := store.ParseState(strings.ToUpper(q))
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		state = s
	}
	sum, err := h.st.Summary(state, h.cfg.ShowPHI)
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, sum)
}

func (h *handler) detail(w http.ResponseWriter, r *http.Request) {
	d, err := h.st.Detail(r.PathValue("uid"), h.cfg.ShowPHI)
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func (h *handler) retry(w http.ResponseWriter, r *http.Request) {
	h.action(w, r, "retry", h.st.Retry)
}

func (h *handler) cancel(w http.ResponseWriter, r *http.Request) {
	h.action(w, r, "cancel", h.st.Cancel)
}

func (h *handler) action(w http.ResponseWriter, r *http.Request, name string, f func(string) error) {
	uid := r.PathValue("uid")
	if err := f(uid); err != nil {
		h.fail(w, err)
		return
	}
	h.cfg.Logger.Info("admin action", "action", name, "study_uid", uid, "remote", r.RemoteAddr)
	d, err := h.st.Detail(uid, h.cfg.ShowPHI)
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, d.Study)
}

func (h *handler) putClinical(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	if err := h.st.PutClinical(r.PathValue("accession"), body); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *handler) getClinical(w http.ResponseWriter, r *http.Request) {
	v, err := h.st.Clinical(r.PathValue("accession"))
	if err != nil {
		h.fail(w, err)
		return
	}
	if v == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no clinical data for this accession number"})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(v)
}

func (h *handler) fail(w http.ResponseWriter, err error) {
	code := http.StatusInternalServerError
	switch {
	case errors.Is(err, store.ErrNotFound):
		code = http.StatusNotFound
	case errors.Is(err, store.ErrConflict):
		code = http.StatusConflict
	default:
		h.cfg.Logger.Error("admin request", "err", err)
	}
	writeJSON(w, code, map[string]string{"error": err.Error()})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

type pageData struct {
	Summary *store.Summary
	States  []store.State
	ShowPHI bool
	Now     time.Time
}

func (h *handler) queuePage(w http.ResponseWriter, r *http.Request) {
	sum, err := h.st.Summary("", h.cfg.ShowPHI)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := h.page.Execute(w, pageData{Summary: sum, States: store.States, ShowPHI: h.cfg.ShowPHI, Now: h.cfg.Now()}); err != nil {
		h.cfg.Logger.Error("render queue page", "err", err)
	}
}

// Age renders a duration the way people read queue ages: 45s, 12m, 3h, 2d.
func Age(d time.Duration) string {
	switch {
	case d < 0:
		return "0s"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

const pageHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="10">
<title>sacrum queue</title>
<style>
body { font-family: sans-serif; margin: 1.5em; }
table { border-collapse: collapse; }
th, td { border-bottom: 1px solid #ccc; padding: 0.3em 0.8em; text-align: left; }
td.num { text-align: right; }
.FAILED { color: #a00; } .DELIVERED { color: #070; }
footer { margin-top: 1em; color: #666; font-size: 0.9em; }
</style>
</head>
<body>
<h1>sacrum queue</h1>
<p id="counts">{{range .States}}{{.}}: {{index $.Summary.Counts .}} &nbsp; {{end}}</p>
<table id="studies">
<thead><tr><th>Accession</th><th>Study date</th>{{if .ShowPHI}}<th>Patient</th>{{end}}<th>State</th><th>Age</th><th>Attempts</th><th>Instances</th><th>Last error</th><th>Study UID</th></tr></thead>
<tbody>
{{range .Summary.Studies}}<tr class="study">
<td class="accession">{{.Accession}}</td><td>{{.StudyDate}}</td>{{if $.ShowPHI}}<td class="patient">{{.PatientName}}</td>{{end}}<td class="state {{.State}}">{{.State}}</td><td>{{age .FirstReceived}}</td><td class="num attempts">{{.Attempts}}</td><td class="num">{{.Instances}}</td><td>{{.LastError}}</td><td><a href="/api/v1/studies/{{.StudyUID}}">{{.StudyUID}}</a></td>
</tr>
{{else}}<tr><td colspan="9">No studies.</td></tr>
{{end}}</tbody>
</table>
<footer>Research use only. Not for diagnostic use. {{if not .ShowPHI}}Patient names hidden (show_phi: false).{{end}}</footer>
</body>
</html>
`
