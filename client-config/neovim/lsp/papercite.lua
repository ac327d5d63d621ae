-- papercite for Neovim 0.11+: copy to ~/.config/nvim/lsp/papercite.lua, then in init.lua:
--
--   vim.lsp.enable('papercite')
--
-- and, to change a setting, vim.lsp.config('papercite', { settings = { papercite = { ... } } }).
-- The settings are those of the VS Code extension without the "papercite." prefix (README.md).
return {
  cmd = { 'papercite', 'serve' },
  filetypes = { 'tex', 'plaintex', 'bib', 'markdown', 'quarto', 'rmd', 'pandoc' },
  root_markers = { '.latexmkrc', 'latexmkrc', '_quarto.yml', '.git' },
  settings = {
    papercite = {
      -- libraries = { '~/Zotero/library.bib' },
      -- completion = { limit = 50, label = 'key' },
      -- hover = { abstract = 400 },
      -- citationCommands = { 'mycite' },
    },
  },
  on_attach = function(client, bufnr)
    -- Completion pops up after \cite{ , [@ and ; (the server's trigger characters) and is asked
    -- again as you type; <C-x><C-o> asks at any point. <C-n> selects, <C-y> accepts.
    vim.lsp.completion.enable(true, client.id, bufnr, { autotrigger = true })
  end,
}
