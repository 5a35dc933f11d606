package console

import (
	"net/http"
	"strings"
)

// setupData is the form that creates an administrator with the admin
// token: how a newcomer gets into a gateway that has no users yet, and how
// an operator who lost every password gets back in.
type setupData struct {
	Email string
}

func (s *Server) setupPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, http.StatusOK, "setup", view{Title: "Create an administrator", CSRF: newLoginToken(w, r)})
}

// setup creates the user through POST /admin/v1/users authenticated with
// the admin token typed into the form, then signs in as it through POST
// /admin/v1/login: the admin API checks the token, the password rules and
// the throttles, and writes the audit entries.
func (s *Server) setup(w http.ResponseWriter, r *http.Request) {
	d := setupData{Email: strings.TrimSpace(r.PostFormValue("email"))}
	again := func(status int, msg string) {
		s.render(w, status, "setup", view{Title: "Create an administrator", CSRF: newLoginToken(w, r), Data: d, Error: msg})
	}
	if !sameOrigin(r) || !checkLoginToken(r) {
		again(http.StatusForbidden, "the form expired or was posted from another site: try again")
		return
	}
	token, pw := strings.TrimSpace(r.PostFormValue("admin_token")), r.PostFormValue("password")
	switch {
	case token == "":
		again(http.StatusBadRequest, "admin token: required; it was printed when Hypergate first started (or is HYPERGATE_ADMIN_TOKEN)")
		return
	case pw != r.PostFormValue("password_again"):
		again(http.StatusBadRequest, "password: the two passwords differ")
		return
	}
	res, err := s.send(w, r, http.MethodPost, "/admin/v1/users", nil,
		map[string]string{"email": d.Email, "password": pw, "role": "admin"},
		func(req *http.Request) { req.Header.Set("Authorization", "Bearer "+token) })
	if err != nil {
		s.internal(w, r, nil, err)
		return
	}
	switch {
	case res.Status == http.StatusUnauthorized || res.Status == http.StatusForbidden:
		again(http.StatusUnauthorized, "admin token: that is not this gateway's admin token")
		return
	case res.Status != http.StatusCreated:
		again(res.Status, res.message())
		return
	}
	res, err = s.api(w, r, http.MethodPost, "/admin/v1/login", nil, map[string]string{"email": d.Email, "password": pw}, "")
	if err != nil {
		s.internal(w, r, nil, err)
		return
	}
	if res.Status != http.StatusOK {
		// The account exists: the sign-in page says what else went wrong.
		http.Redirect(w, r, "/signin", http.StatusSeeOther)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Path: "/signin", MaxAge: -1, HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}
