package server

import "net/http"

func notYet(w http.ResponseWriter, r *http.Request, c *call) error {
	return newError(http.StatusNotImplemented, "Not Implemented")
}

type bulkOp int

const (
	bulkDisable bulkOp = iota
	bulkEnable
	bulkDelete
	bulkReset
)

func (h *handler) bulk(op bulkOp) func(http.ResponseWriter, *http.Request, *call) error {
	return notYet
}
func (h *handler) createToken(w http.ResponseWriter, r *http.Request, c *call) error {
	return notYet(w, r, c)
}
func (h *handler) duplicateToken(w http.ResponseWriter, r *http.Request, c *call) error {
	return notYet(w, r, c)
}
func (h *handler) patchToken(w http.ResponseWriter, r *http.Request, c *call) error {
	return notYet(w, r, c)
}
func (h *handler) resetToken(w http.ResponseWriter, r *http.Request, c *call) error {
	return notYet(w, r, c)
}
func (h *handler) disableToken(w http.ResponseWriter, r *http.Request, c *call) error {
	return notYet(w, r, c)
}
func (h *handler) enableToken(w http.ResponseWriter, r *http.Request, c *call) error {
	return notYet(w, r, c)
}
func (h *handler) deleteToken(w http.ResponseWriter, r *http.Request, c *call) error {
	return notYet(w, r, c)
}
func (h *handler) setScopes(w http.ResponseWriter, r *http.Request, c *call) error {
	return notYet(w, r, c)
}
func (h *handler) clearScopes(w http.ResponseWriter, r *http.Request, c *call) error {
	return notYet(w, r, c)
}
func (h *handler) setEmails(w http.ResponseWriter, r *http.Request, c *call) error {
	return notYet(w, r, c)
}
