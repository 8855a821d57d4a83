// Package admin is the node's admin HTTP server: health and readiness, Prometheus metrics, the study
// API (list, detail, retry, cancel, clinical variables) and a server-rendered queue page.
//
// Imports: the standard library, github.com/prometheus/client_golang and store/.
package admin
