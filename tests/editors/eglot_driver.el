;;; eglot_driver.el --- drive Emacs + eglot against `papercite serve' in batch mode  -*- lexical-binding: t; -*-

;; Run by test_emacs.py as `emacs --batch -q -l eglot_driver.el' with PAPERCITE_* variables:
;; loads client-config/emacs/papercite.el as a user would, opens the sample drafts, and for each
;; one: completes a citation from title words and accepts the first item (as company or corfu
;; do: insert the candidate, then run the capf's exit function, which applies the textEdit),
;; asks eglot's hover function, and waits for the flymake diagnostics. Writes what it saw as
;; JSON to $PAPERCITE_RESULT and a transcript to $PAPERCITE_TRANSCRIPT.

;;; Code:

(require 'package)
(package-initialize)
(require 'cl-lib)
(require 'json)
(require 'eglot)
(require 'markdown-mode)
(require 'flymake)

(defvar papercite-test-config (getenv "PAPERCITE_CLIENT_CONFIG"))
(defvar papercite-test-workspace (getenv "PAPERCITE_WORKSPACE"))
(defvar papercite-test-result (getenv "PAPERCITE_RESULT"))
(defvar papercite-test-transcript (getenv "PAPERCITE_TRANSCRIPT"))
(defvar papercite-test-timeout 30)
(defun papercite-test-eglot-version ()
  (or (ignore-errors (package-version-join (package-desc-version (cadr (assq 'eglot package-alist))))) "?"))
(defvar papercite-test-out (list :emacs emacs-version :eglot (papercite-test-eglot-version)
                                 :files nil :errors nil :messages nil))

(setq make-backup-files nil create-lockfiles nil auto-save-default nil
      eglot-sync-connect papercite-test-timeout
      eglot-events-buffer-size 0)

(defun papercite-test-say (format-string &rest args)
  (let ((text (apply #'format format-string args)))
    (with-temp-buffer
      (insert text "\n")
      (append-to-file (point-min) (point-max) papercite-test-transcript))))

(defun papercite-test-idle ()
  "Run the idle timers, as a user pausing would (batch Emacs is never idle): eglot sends the
buffer's changes from one, eldoc and flymake work from others."
  (dolist (timer (copy-sequence timer-idle-list))
    (when (memq timer timer-idle-list)
      (timer-event-handler timer))))

(defun papercite-test-wait (predicate &optional seconds)
  "Process server output until PREDICATE returns non-nil (its value), or SECONDS pass."
  (let ((deadline (+ (float-time) (or seconds papercite-test-timeout)))
        value)
    (while (and (not (setq value (funcall predicate))) (< (float-time) deadline))
      (papercite-test-idle)
      (accept-process-output nil 0.05))
    value))

;; window/showMessage, recorded (eglot shows them in the echo area)
(advice-add 'eglot-handle-notification :before
            (lambda (_server method &rest params)
              (when (eq method 'window/showMessage)
                (papercite-test-say "window/showMessage (type %s): %s"
                                    (plist-get params :type) (plist-get params :message))
                (push (list :type (plist-get params :type) :message (plist-get params :message))
                      (plist-get papercite-test-out :messages)))))

;; the configuration users copy
(load (expand-file-name "papercite.el" papercite-test-config) nil t)

(defun papercite-test-capf ()
  "What `completion-at-point' would use: the first function that answers."
  (run-hook-wrapped 'completion-at-point-functions
                    (lambda (fn) (and (functionp fn) (funcall fn)))))

(defun papercite-test-complete (expect)
  "Complete at point as corfu does (the completion styles, then the display order) and
accept the first candidate: insert it over the capf's region, run its exit function.
Returns (CANDIDATES . ACCEPTED-P)."
  (let (candidates capf)
    (papercite-test-wait
     (lambda ()
       (setq capf (papercite-test-capf))
       (when capf
         (let* ((start (nth 0 capf)) (table (nth 2 capf)) (pred (plist-get (nthcdr 3 capf) :predicate))
                (probe (buffer-substring-no-properties start (point)))
                (metadata (completion-metadata probe table pred))
                (sort (completion-metadata-get metadata 'display-sort-function))
                (all (completion-all-completions probe table pred (length probe) metadata)))
           (when (consp all) (setcdr (last all) nil)) ; drop the base size
           (setq candidates (funcall (or sort #'identity) all))
           (and candidates (equal (substring-no-properties (car candidates)) expect))))))
    (if (not (and candidates (equal (substring-no-properties (car candidates)) expect)))
        (cons candidates nil)
      (let* ((start (nth 0 capf)) (end (nth 1 capf)) (props (nthcdr 3 capf))
             (exit (plist-get props :exit-function))
             (choice (car candidates)))
        (delete-region start end)
        (goto-char start)
        (insert choice)
        (when exit (funcall exit choice 'finished))
        (cons candidates t)))))

(defun papercite-test-eglot-own (line cursor)
  "Candidates of eglot's own completion for LINE (added below point's line, then removed) with
point after CURSOR, through the completion styles: for the record, beside papercite's."
  (end-of-line)
  (insert "\n" line)
  (let ((start (line-beginning-position)) candidates)
    (goto-char (+ start (length cursor)))
    (let* ((capf (eglot-completion-at-point))
           (table (nth 2 capf))
           (probe (buffer-substring-no-properties (nth 0 capf) (point)))
           (all (completion-all-completions probe table nil (length probe)
                                            (completion-metadata probe table nil))))
      (when (consp all) (setcdr (last all) nil))
      (setq candidates (mapcar #'substring-no-properties (seq-take all 3))))
    (delete-region (1- start) (line-end-position))
    candidates))

(defun papercite-test-hover ()
  (let (hover)
    (eglot-hover-eldoc-function (lambda (info &rest _) (setq hover (or info ""))))
    (papercite-test-wait (lambda () hover) 20)
    (and hover (substring-no-properties hover))))

(defun papercite-test-diagnostics (undefined)
  "Flymake's diagnostics once they cover exactly the UNDEFINED keys of the current text."
  (let (found)
    (papercite-test-wait
     (lambda ()
       (setq found (mapcar (lambda (d)
                             (list :line (line-number-at-pos (flymake-diagnostic-beg d))
                                   :covered (buffer-substring-no-properties (flymake-diagnostic-beg d)
                                                                            (flymake-diagnostic-end d))
                                   :message (flymake-diagnostic-text d)))
                           (flymake-diagnostics)))
       (and (equal (sort (mapcar (lambda (d) (plist-get d :covered)) found) #'string<)
                   (sort (copy-sequence undefined) #'string<))
            (cl-every (lambda (d) (string-match-p (regexp-quote (plist-get d :covered)) (plist-get d :message)))
                      found))))
    found))

(defun papercite-test-case (file anchor before after expect undefined open close)
  (find-file (expand-file-name file papercite-test-workspace))
  (run-hooks 'post-command-hook) ; the user's first command: eglot-ensure connects now
  (let ((record (list :file file :mode (symbol-name major-mode))))
    (papercite-test-say "\n== %s (%s)" file major-mode)
    (unless (papercite-test-wait (lambda () (and (eglot-current-server) eglot--managed-mode)))
      (error "eglot did not connect for %s" file))
    (flymake-start) ; an undisplayed buffer in batch mode: flymake would wait for a window
    (setq record (plist-put record :language-id (eglot--language-id (eglot-current-server))))
    (papercite-test-say "eglot manages it; language id %S" (plist-get record :language-id))
    ;; a line with a half-typed citation below the anchor, point before the closing bracket
    (goto-char (point-min))
    (re-search-forward anchor)
    (end-of-line)
    (insert "\n" before)
    (save-excursion (insert after))
    (papercite-test-say "typed:    %s|%s" before after)
    (setq record (plist-put record :capf (format "%s" (car (cl-remove-if-not
                                                             (lambda (f) (and (symbolp f) (fboundp f)))
                                                             completion-at-point-functions)))))
    (let* ((answer (papercite-test-complete expect))
           (line (buffer-substring-no-properties (line-beginning-position) (line-end-position))))
      (setq record (plist-put record :candidates (mapcar #'substring-no-properties (seq-take (car answer) 5))))
      (setq record (plist-put record :accepted (cdr answer)))
      (setq record (plist-put record :accepted-line line))
      (papercite-test-say "completion: %s" (string-join (plist-get record :candidates) ", "))
      (papercite-test-say "accepted: %s" line)
      ;; hover on the key just written
      (when (search-backward expect (line-beginning-position) t)
        (forward-char 3)
        (let ((hover (papercite-test-hover)))
          (setq record (plist-put record :hover (or hover "")))
          (papercite-test-say "hover:\n    %s" (replace-regexp-in-string "\n" "\n    " (or hover "(none)"))))))
    (let ((own (list (cons "key prefix" (papercite-test-eglot-own (concat open "he2016" close) (concat open "he2016")))
                     (cons "title words" (papercite-test-eglot-own (concat open "residual learning" close)
                                                                   (concat open "residual learning"))))))
      (setq record (plist-put record :eglot-own own))
      (dolist (case own)
        (papercite-test-say "eglot's own completion, %s: %s" (car case) (or (cdr case) "nothing"))))
    (let ((diagnostics (papercite-test-diagnostics undefined)))
      (setq record (plist-put record :diagnostics (vconcat diagnostics)))
      (dolist (d diagnostics)
        (papercite-test-say "diagnostic line %d: %s  [covers %S]"
                            (plist-get d :line) (plist-get d :message) (plist-get d :covered))))
    (push record (plist-get papercite-test-out :files))))

(condition-case err
    (progn
      (papercite-test-say "GNU Emacs %s, eglot %s" emacs-version (papercite-test-eglot-version))
      (papercite-test-case "draft.tex" "\\\\begin{document}"
                           "Emoji 🙂 Schölkopf \\cite{nobody2099emoji} and \\cite{attention is all" "}"
                           "vaswani2017attention" '("smith2099imaginary" "nobody2099emoji") "\\cite{" "}")
      (papercite-test-case "draft.md" "^# Background"
                           "Emoji 🙂 Schölkopf [@nobody2099emoji] and [@attention is all" "]"
                           "vaswani2017attention" '("doe2099missing" "nobody2099emoji") "[@" "]"))
  (error
   (papercite-test-say "ERROR: %S" err)
   (push (format "%S" err) (plist-get papercite-test-out :errors))))

(with-temp-file papercite-test-result
  (let ((out (copy-sequence papercite-test-out)))
    (setq out (plist-put out :files (vconcat (reverse (plist-get out :files)))))
    (setq out (plist-put out :messages (vconcat (reverse (plist-get out :messages)))))
    (insert (json-encode out))))
(ignore-errors (eglot-shutdown-all))
(kill-emacs 0)
;;; eglot_driver.el ends here
