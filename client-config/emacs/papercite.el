;;; papercite.el --- cite papers with the papercite language server and eglot  -*- lexical-binding: t; -*-

;; Copy this into your init file, or put the file on `load-path' and (require 'papercite).
;; Needs eglot: built into Emacs 29+, from GNU ELPA or Debian's elpa-eglot on Emacs 26-28.
;; See README.md beside this file.

;;; Code:

(require 'eglot)

;; Two entries, not one: eglot before Emacs 30 announces every buffer of a server with the
;; language id of the buffer that started it, so a Markdown file would reach papercite as
;; "latex" if one server managed both. Each entry gets its own server (and the same index).
(add-to-list 'eglot-server-programs
             '((latex-mode LaTeX-mode tex-mode plain-tex-mode) . ("papercite" "serve")))
(add-to-list 'eglot-server-programs
             '((markdown-mode gfm-mode poly-markdown-mode quarto-mode) . ("papercite" "serve")))

;; Start papercite when such a file is opened.
(dolist (hook '(latex-mode-hook LaTeX-mode-hook markdown-mode-hook gfm-mode-hook))
  (add-hook hook #'eglot-ensure))

;; Settings (the VS Code extension's, without the "papercite." prefix), answered to the
;; server's workspace/configuration request. Per project: the same form in .dir-locals.el.
;; (setq-default eglot-workspace-configuration
;;               '(:papercite (:libraries ["~/Zotero/library.bib"]
;;                             :completion (:limit 50 :label "key")
;;                             :hover (:abstract 400))))

;; Completion from title words on eglot before 1.13 (Emacs 28's, Debian bookworm's 1.9): its own
;; completion keeps only the items whose filterText starts with the symbol before point, so
;; "\cite{attention is all" offers nothing. In papercite's buffers this completion asks the same
;; server, keeps its matches in its order and replaces the whole query with the chosen key.
;; Newer eglot matches leniently (its `eglot--dumb-flex' style) and needs none of this.
(unless (fboundp 'eglot--dumb-flex)
  (defun papercite--completion-at-point ()
    "Papers for the citation at point, in the server's order, replacing what was typed."
    (let ((server (eglot-current-server)))
      (when (and server (equal (plist-get (eglot--server-info server) :name) "papercite"))
        (let* ((response (jsonrpc-request server :textDocument/completion (eglot--CompletionParams)
                                          :deferred :textDocument/completion :cancel-on-input t))
               (items (append (if (vectorp response) response (plist-get response :items)) nil))
               (items (sort items (lambda (a b) (string< (or (plist-get a :sortText) "")
                                                         (or (plist-get b :sortText) "")))))
               (region nil)
               (keys (mapcar (lambda (item)
                               (let ((edit (plist-get item :textEdit)))
                                 (when (and edit (not region))
                                   (setq region (eglot--range-region (plist-get edit :range))))
                                 (propertize (if edit (plist-get edit :newText) (plist-get item :label))
                                             'papercite-item item)))
                             items)))
          (when keys
            (list (or (car region) (point)) (or (cdr region) (point))
                  (lambda (string pred action)
                    (cond ((eq action 'metadata)
                           '(metadata (category . papercite) (display-sort-function . identity)
                                      (cycle-sort-function . identity)))
                          ((eq (car-safe action) 'boundaries) nil)
                          ((eq action t) (all-completions "" keys pred))
                          ((eq action 'lambda) (and (member string keys) t))
                          ((null (cdr keys)) (if (equal string (car keys)) t (car keys)))
                          (t string))) ; several papers: nothing to add to what was typed
                  :exclusive 'no
                  :annotation-function
                  (lambda (key)
                    (let ((details (plist-get (get-text-property 0 'papercite-item key) :labelDetails)))
                      (concat (plist-get details :detail) "  " (plist-get details :description))))
                  :company-doc-buffer
                  (lambda (key)
                    (let ((doc (plist-get (get-text-property 0 'papercite-item key) :documentation)))
                      (when doc
                        (with-current-buffer (get-buffer-create " *papercite doc*")
                          (erase-buffer)
                          (insert (eglot--format-markup doc))
                          (current-buffer)))))))))))

  ;; Completion UIs filter through `completion-styles'; the server already matched every word typed.
  (defun papercite--all-completions (string table pred _point)
    (let ((all (all-completions string table pred)))
      (and all (nconc all 0))))
  (defun papercite--try-completion (string table pred point)
    (let ((all (all-completions string table pred)))
      (cond ((null all) nil)
            ((cdr all) (cons string point))
            ((equal (car all) string) t)
            (t (cons (car all) (length (car all)))))))
  (add-to-list 'completion-styles-alist
               '(papercite papercite--try-completion papercite--all-completions
                           "Keep the papers the server found, in its order."))
  (add-to-list 'completion-category-overrides '(papercite (styles papercite)))

  (add-hook 'eglot-managed-mode-hook
            (lambda ()
              (when eglot--managed-mode
                (add-hook 'completion-at-point-functions #'papercite--completion-at-point nil t)))))

(provide 'papercite)
;;; papercite.el ends here
