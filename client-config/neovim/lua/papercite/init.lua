-- papercite for Neovim 0.7 to 0.10 (and later): start `papercite serve` for LaTeX, BibTeX,
-- Markdown, Quarto and R Markdown buffers, and an omnifunc that completes papers from title words.
--
--   require('papercite').setup({})        -- in init.lua; see ../../README.md
--
-- Neovim 0.11+ can use ../../lsp/papercite.lua (vim.lsp.config) instead; this module still works
-- there, and its omnifunc is useful on any version (see `omnifunc` below for why).

local M = {}
local uv = vim.uv or vim.loop
local has_011 = vim.fn.has('nvim-0.11') == 1

M.filetypes = { 'tex', 'plaintex', 'bib', 'markdown', 'quarto', 'rmd', 'pandoc' }
M.root_markers = { '.latexmkrc', 'latexmkrc', '_quarto.yml', '.git' }
M.install_hint = 'install it with: python3 -m pip install papercite   (or pipx install papercite)'

local defaults = {
  name = 'papercite',
  cmd = { 'papercite', 'serve' },
  filetypes = M.filetypes,
  root_markers = M.root_markers,
  init_options = nil, -- initializationOptions: the same settings as below, without the "papercite" level
  settings = {}, -- answered to workspace/configuration, e.g. { papercite = { libraries = { '~/refs.bib' } } }
  omnifunc = true, -- set 'omnifunc' to papercite's in attached buffers (<C-x><C-o>)
  on_attach = nil, -- function(client, bufnr)
}

M.config = vim.deepcopy(defaults)
local clients = {} -- root dir -> client id (Neovim 0.7, which has no vim.lsp.start)
local warned = false

--- The nearest folder above `path` holding one of `markers`, else the file's own folder.
function M.find_root(path, markers)
  local dir = vim.fn.fnamemodify(path, ':p:h')
  local start = dir
  while true do
    for _, marker in ipairs(markers) do
      if uv.fs_stat(dir .. '/' .. marker) then
        return dir
      end
    end
    local parent = vim.fn.fnamemodify(dir, ':h')
    if parent == dir then
      return start
    end
    dir = parent
  end
end

--- The papercite client attached to a buffer, if any.
function M.client(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local attached = vim.lsp.get_clients and vim.lsp.get_clients({ bufnr = bufnr })
    or vim.lsp.buf_get_clients(bufnr)
  for _, client in pairs(attached) do
    if client.name == 'papercite' then
      return client
    end
  end
  return nil
end

local function on_attach(client, bufnr)
  if M.config.omnifunc then
    vim.bo[bufnr].omnifunc = "v:lua.require'papercite'.omnifunc"
  end
  if M.config.on_attach then
    M.config.on_attach(client, bufnr)
  end
end

--- Start (or reuse) the server for a buffer and attach it.
function M.start(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local name = vim.api.nvim_buf_get_name(bufnr)
  if name == '' or vim.bo[bufnr].buftype ~= '' then
    return nil
  end
  local cfg = M.config
  if vim.fn.executable(cfg.cmd[1]) ~= 1 then
    if not warned then
      warned = true
      vim.notify(('papercite: %q is not an executable; %s'):format(cfg.cmd[1], M.install_hint), vim.log.levels.ERROR)
    end
    return nil
  end
  local root = M.find_root(name, cfg.root_markers)
  local config = {
    name = cfg.name,
    cmd = cfg.cmd,
    root_dir = root,
    workspace_folders = { { uri = vim.uri_from_fname(root), name = root } },
    init_options = cfg.init_options,
    settings = cfg.settings,
    on_attach = on_attach,
  }
  if vim.lsp.start then -- 0.8+: reuses a client of the same name and root
    return vim.lsp.start(config, { bufnr = bufnr })
  end
  local id = clients[root]
  if id == nil or vim.lsp.get_client_by_id(id) == nil or vim.lsp.client_is_stopped(id) then
    id = vim.lsp.start_client(config)
    clients[root] = id
  end
  if id then
    vim.lsp.buf_attach_client(bufnr, id)
  end
  return id
end

--- Start papercite for buffers of `opts.filetypes` (see `defaults` above for the options).
function M.setup(opts)
  M.config = vim.tbl_deep_extend('force', vim.deepcopy(defaults), opts or {})
  if opts and opts.filetypes then
    M.config.filetypes = opts.filetypes -- lists replace, they do not merge
  end
  if opts and opts.root_markers then
    M.config.root_markers = opts.root_markers
  end
  local group = vim.api.nvim_create_augroup('papercite', { clear = true })
  vim.api.nvim_create_autocmd('FileType', {
    group = group,
    pattern = M.config.filetypes,
    callback = function(args)
      M.start(args.buf)
    end,
  })
  vim.api.nvim_create_autocmd('CompleteDone', { group = group, callback = M.complete_done })
  -- buffers already open when setup runs
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr)
      and vim.tbl_contains(M.config.filetypes, vim.bo[bufnr].filetype) then
      M.start(bufnr)
    end
  end
end

-- Byte column of an LSP character offset on `line`, in the client's position encoding.
local function byte_col(line, character, encoding)
  if encoding == 'utf-8' then
    return math.min(character, #line)
  end
  local ok, col
  if has_011 then
    ok, col = pcall(vim.str_byteindex, line, encoding, character, false)
  else
    ok, col = pcall(vim.str_byteindex, line, character, encoding == 'utf-16')
  end
  return ok and col or #line
end

local function markup(value)
  if type(value) == 'table' then
    return value.value or ''
  end
  return value or ''
end

--- Complete-items for a completion answer: the server's order, its ranges, nothing filtered out.
function M.complete_items(result, line, lnum, cursor_col, encoding)
  local items = result and (result.items or result) or {}
  table.sort(items, function(a, b)
    return (a.sortText or a.label) < (b.sortText or b.label)
  end)
  local start = nil
  local words = {}
  for _, item in ipairs(items) do
    local edit = item.textEdit
    local range = edit and (edit.range or edit.replace)
    local tail = ''
    if range and range.start.line == lnum then
      start = start or byte_col(line, range.start.character, encoding)
      local stop = byte_col(line, range['end'].character, encoding)
      if stop > cursor_col then
        tail = line:sub(cursor_col + 1, stop) -- the rest of the key the cursor is in: replaced too
      end
    end
    local details = item.labelDetails or {}
    table.insert(words, {
      word = edit and edit.newText or item.insertText or item.label,
      abbr = item.label .. (details.detail or ''),
      menu = details.description or item.detail or '',
      info = markup(item.documentation),
      kind = 'R',
      icase = 1,
      dup = 1,
      empty = 1,
      equal = 1, -- the server ranked them for what was typed: Vim must not filter by the key's prefix
      user_data = { papercite = { tail = tail } },
    })
  end
  return start, words
end

local pending = nil

--- 'omnifunc' for papercite (<C-x><C-o>). Unlike vim.lsp.omnifunc on 0.7-0.10, which keeps only
--- items whose key starts with the word before the cursor (so "attention is all" finds nothing),
--- it replaces the whole query with the key the server ranked first, and asks again as you type.
function M.omnifunc(findstart, base)
  local bufnr = vim.api.nvim_get_current_buf()
  if findstart == 1 then
    pending = nil
    local client = M.client(bufnr)
    if not client then
      return -3
    end
    local cursor = vim.api.nvim_win_get_cursor(0)
    local line = vim.api.nvim_get_current_line()
    local encoding = client.offset_encoding or 'utf-16'
    local params = vim.lsp.util.make_position_params(0, encoding)
    local response
    if has_011 then
      response = client:request_sync('textDocument/completion', params, 2000, bufnr)
    else
      response = client.request_sync('textDocument/completion', params, 2000, bufnr)
    end
    if not response or response.err or not response.result then
      return -3
    end
    local start, words = M.complete_items(response.result, line, cursor[1] - 1, cursor[2], encoding)
    if #words == 0 then
      return -3
    end
    pending = words
    return start or vim.fn.match(line:sub(1, cursor[2]), '\\k*$')
  end
  local words = pending or {}
  pending = nil
  return { words = words, refresh = 'always' }
end

--- CompleteDone: when the cursor was inside a key, the item replaced only the part before the
--- cursor; remove the rest of the old key, as the server's textEdit says.
function M.complete_done()
  local item = vim.v.completed_item
  local data = type(item) == 'table' and type(item.user_data) == 'table' and item.user_data.papercite
  if not data or not data.tail or data.tail == '' then
    return
  end
  local row, col = unpack(vim.api.nvim_win_get_cursor(0))
  local line = vim.api.nvim_get_current_line()
  if line:sub(col + 1, col + #data.tail) == data.tail then
    vim.api.nvim_buf_set_text(0, row - 1, col, row - 1, col + #data.tail, { '' })
  end
end

return M
