-- Drives a real headless Neovim against `papercite serve`, the way a user's editor would, using the
-- configuration users copy from client-config/neovim. Run by test_neovim.py as
--
--   nvim --headless --clean -c 'luafile nvim_driver.lua'
--
-- with PAPERCITE_* environment variables (see `env` below). Writes what it saw as JSON to
-- $PAPERCITE_RESULT and a readable transcript to $PAPERCITE_TRANSCRIPT, then quits. Assertions are
-- made by the Python test on the JSON, so a failure shows everything the editor saw.

local env = {
  config = os.getenv('PAPERCITE_CLIENT_CONFIG'), -- client-config/neovim
  cmd = vim.fn.json_decode(os.getenv('PAPERCITE_CMD')), -- the server command
  workspace = os.getenv('PAPERCITE_WORKSPACE'), -- a copy of index/sample
  index_dir = os.getenv('PAPERCITE_INDEX_DIR'),
  mode = os.getenv('PAPERCITE_MODE') or 'module', -- 'module' (0.7-0.10 setup) or 'lsp-config' (0.11+)
  result = os.getenv('PAPERCITE_RESULT'),
  transcript = os.getenv('PAPERCITE_TRANSCRIPT'),
}
local TIMEOUT = 60000
vim.o.swapfile = false
vim.o.shadafile = 'NONE'

local out = { version = tostring(vim.version().major .. '.' .. vim.version().minor .. '.' .. vim.version().patch),
  mode = env.mode, files = {}, errors = {} }
local log = assert(io.open(env.transcript, 'w'))
local function say(fmt, ...)
  log:write((select('#', ...) > 0 and fmt:format(...) or fmt) .. '\n')
  log:flush() -- the transcript survives a crash
end

local function finish()
  local f = assert(io.open(env.result, 'w'))
  f:write(vim.fn.json_encode(out))
  f:close()
  log:close()
  vim.cmd('qall!')
end

local function papercite_client(bufnr)
  local clients = vim.lsp.get_clients and vim.lsp.get_clients({ bufnr = bufnr })
    or vim.lsp.buf_get_clients(bufnr)
  for _, client in pairs(clients) do
    if client.name == 'papercite' then
      return client
    end
  end
end

local function request(bufnr, method, params)
  local responses = vim.lsp.buf_request_sync(bufnr, method, params, 5000) or {}
  for _, response in pairs(responses) do
    if response.err then
      error(method .. ': ' .. vim.inspect(response.err))
    end
    return response.result
  end
end

-- the key an item inserts
local function key_of(item)
  return item.textEdit and item.textEdit.newText or item.insertText or item.label
end

local function sorted_items(result)
  local items = result and (result.items or result) or {}
  table.sort(items, function(a, b)
    return (a.sortText or a.label) < (b.sortText or b.label)
  end)
  return items
end

-- Position params at a byte column on a 0-based line, in the client's encoding.
local function position_params(bufnr, lnum, col, client)
  vim.api.nvim_win_set_cursor(0, { lnum + 1, col })
  return vim.lsp.util.make_position_params(0, client.offset_encoding)
end

local uv = vim.uv or vim.loop
local function termcodes(keys)
  return vim.api.nvim_replace_termcodes(keys, true, false, true)
end

-- Keys are typed for real: fed to the typeahead and read by Neovim's main loop while the driver
-- (a coroutine) waits on a timer, so asynchronous completion works as it does for a user.
local driver
local function wait_until(condition, ms)
  local deadline = uv.now() + ms
  local timer = uv.new_timer()
  timer:start(20, 20, vim.schedule_wrap(function()
    if timer:is_closing() then
      return
    end
    local met = condition()
    if met or uv.now() > deadline then
      timer:stop()
      timer:close()
      local ok, err = coroutine.resume(driver, met)
      if not ok then
        table.insert(out.errors, debug.traceback(driver, err))
        finish()
      end
    end
  end))
  return coroutine.yield()
end

-- Type `keys` (ending in <C-x><C-o>); when the completion menu shows, accept its first item
-- with <C-y> and leave insert mode. Returns whether the menu showed.
local function type_and_accept(keys)
  vim.api.nvim_feedkeys(termcodes(keys), 't', false)
  local shown = wait_until(function()
    return vim.fn.pumvisible() == 1
  end, 3000) -- the server answers in milliseconds once the index is warm
  vim.api.nvim_feedkeys(termcodes((shown and '<C-y>' or '') .. '<Esc>'), 't', false)
  wait_until(function()
    return vim.api.nvim_get_mode().mode == 'n'
  end, 10000)
  return shown
end

out.messages = {}
local show_message = vim.lsp.handlers['window/showMessage']
vim.lsp.handlers['window/showMessage'] = function(err, result, ctx, config)
  table.insert(out.messages, result)
  say('window/showMessage (type %d): %s', result.type, result.message)
  return show_message(err, result, ctx, config)
end

local function setup()
  if env.mode == 'lsp-config' then
    -- Neovim 0.11+: lsp/papercite.lua from the runtimepath, overridden like a user would
    vim.opt.runtimepath:prepend(env.config)
    vim.lsp.config('papercite', { cmd = env.cmd, init_options = { indexDir = env.index_dir } })
    vim.lsp.enable('papercite')
  else
    package.path = env.config .. '/lua/?.lua;' .. env.config .. '/lua/?/init.lua;' .. package.path
    require('papercite').setup({ cmd = env.cmd, init_options = { indexDir = env.index_dir } })
  end
  vim.o.completeopt = 'menu,menuone'
  say('Neovim %s, setup: %s, server: %s', out.version, env.mode, table.concat(env.cmd, ' '))
end

-- 5. go to definition from the key accepted in step 1, as `gd` would: Neovim opens the
-- bibliography at the entry. 6. rename that key (vim.lsp.buf.rename, as `:lua vim.lsp.buf.rename()`
-- does after the prompt), then back: the citation and the entry change together.
local function navigate(case, record, bufnr)
  local lnum, col = record.key_at[1], record.key_at[2]
  vim.api.nvim_win_set_cursor(0, { lnum + 1, col })
  vim.lsp.buf.definition()
  wait_until(function()
    return vim.api.nvim_get_current_buf() ~= bufnr
  end, 10000)
  record.definition = { file = vim.fn.expand('%:t'), line = vim.api.nvim_get_current_line() }
  say('definition: %s: %s', record.definition.file, record.definition.line)
  local bib = vim.api.nvim_get_current_buf()
  vim.api.nvim_set_current_buf(bufnr)

  local function renamed_to(key)
    vim.api.nvim_win_set_cursor(0, { lnum + 1, col })
    vim.lsp.buf.rename(key)
    wait_until(function()
      return vim.api.nvim_buf_get_lines(bufnr, lnum, lnum + 1, true)[1]:find(key, 1, true) ~= nil
    end, 10000)
    -- the edited bibliography buffer reaches the server as a didChange and is indexed from it:
    -- the next rename starts from the new key once hovering it shows the paper
    wait_until(function()
      local hover = request(bufnr, 'textDocument/hover', vim.lsp.util.make_position_params())
      local text = hover and hover.contents and hover.contents.value or ''
      return text:find('Attention Is All You Need', 1, true) ~= nil
    end, 10000)
    local entry = vim.fn.matchstr(table.concat(vim.api.nvim_buf_get_lines(bib, 0, -1, true), '\n'),
      '@inproceedings{vaswani2017[a-z]*,')
    local line = vim.api.nvim_buf_get_lines(bufnr, lnum, lnum + 1, true)[1]
    say('renamed to %s: %s | %s', key, line, entry)
    return { line = line, entry = entry }
  end
  record.renamed = renamed_to(case.rename)
  record.renamed_back = renamed_to(case.expect)
end

-- One document: open it, add a line with a half-typed citation, complete, accept, hover, check
-- the diagnostics. `case` gives the file and the text around the cursor.
local function run_case(case)
  local record = { file = case.file, typed = {} }
  out.files[case.file] = record
  vim.cmd('edit ' .. vim.fn.fnameescape(env.workspace .. '/' .. case.file))
  local bufnr = vim.api.nvim_get_current_buf()
  record.filetype = vim.bo[bufnr].filetype
  say('\n== %s (filetype %s)', case.file, record.filetype)

  local client
  assert(vim.wait(TIMEOUT, function()
    client = papercite_client(bufnr)
    return client ~= nil and client.initialized
  end, 50), 'papercite did not attach to ' .. case.file)
  record.offset_encoding = client.offset_encoding
  record.omnifunc = vim.bo[bufnr].omnifunc
  say('attached: client %d, offset encoding %s, omnifunc=%s', client.id, client.offset_encoding, record.omnifunc)

  -- 1. completion from title words, accepted by applying the first item's textEdit
  local anchor = vim.fn.search(case.anchor, 'nw')
  assert(anchor > 0, 'anchor not found: ' .. case.anchor)
  vim.api.nvim_buf_set_lines(bufnr, anchor, anchor, true, { case.before .. case.after })
  local lnum = anchor -- 0-based line of the new text
  local params = position_params(bufnr, lnum, #case.before, client)
  say('typed:    %s|%s   (cursor at byte %d, LSP character %d)', case.before, case.after, #case.before,
    params.position.character)
  local items, result
  local started = uv.hrtime()
  vim.wait(TIMEOUT, function()
    result = request(bufnr, 'textDocument/completion', params)
    items = sorted_items(result)
    return #items > 0 and key_of(items[1]) == case.expect
  end, 200)
  record.completion_seconds = (uv.hrtime() - started) / 1e9
  record.keys = vim.tbl_map(key_of, vim.list_slice(items, 1, 5))
  record.is_incomplete = result and result.isIncomplete
  say('completion: %s%s', table.concat(record.keys, ', '), #items > 5 and ', ...' or '')
  if #items > 0 then
    local first = items[1]
    record.first = { label = first.label, detail = first.detail, filterText = first.filterText,
      documentation = type(first.documentation) == 'table' and first.documentation.value or first.documentation }
    vim.lsp.util.apply_text_edits({ first.textEdit }, bufnr, client.offset_encoding)
  end
  record.accepted_line = vim.api.nvim_buf_get_lines(bufnr, lnum, lnum + 1, true)[1]
  say('accepted: %s', record.accepted_line)

  -- 2. hover on the key just written
  local key_col = record.accepted_line:find(case.expect, 1, true)
  if key_col then
    record.key_at = { lnum, key_col + 2 }
    local hover = request(bufnr, 'textDocument/hover', position_params(bufnr, lnum, key_col + 2, client))
    record.hover = hover and hover.contents and (hover.contents.value or hover.contents) or vim.NIL
    say('hover:\n    %s', (type(record.hover) == 'string' and record.hover or '(none)'):gsub('\n', '\n    '))
  end

  -- 3. the same through the keyboard: a query typed in insert mode, <C-x><C-o>, <C-y> accepts
  for i, keys in ipairs(case.keys) do
    local row = lnum + 2 -- 1-based: below the line added above
    vim.api.nvim_buf_set_lines(bufnr, row - 1, row - 1, true, { keys.line })
    vim.api.nvim_win_set_cursor(0, { row, #keys.at })
    local saved = vim.bo[bufnr].omnifunc
    if keys.omnifunc then
      vim.bo[bufnr].omnifunc = keys.omnifunc
    end
    local popup = type_and_accept(keys.type)
    vim.bo[bufnr].omnifunc = saved
    local got = vim.api.nvim_buf_get_lines(bufnr, row - 1, row, true)[1]
    table.insert(record.typed, { line = keys.line, type = keys.type, omnifunc = keys.omnifunc or saved,
      popup = popup, result = got, expect = keys.expect })
    say('typed %s after %q (omnifunc %s): popup %s, line is now  %s', keys.type, keys.at,
      keys.omnifunc or saved, popup and 'shown' or 'NOT shown', got)
    vim.api.nvim_buf_set_lines(bufnr, row - 1, row, true, {}) -- leave the document as it was
  end

  -- 4. undefined-key diagnostics (positions converted by Neovim from the server's UTF-16)
  local diagnostics = {}
  local function fresh_and_complete()
    diagnostics = vim.diagnostic.get(bufnr)
    local keys = {}
    for _, d in ipairs(diagnostics) do
      local text = vim.api.nvim_buf_get_lines(bufnr, d.lnum, d.lnum + 1, true)[1] or ''
      local covered = text:sub(d.col + 1, d.end_col)
      if not d.message:find(covered, 1, true) or covered == '' then
        return false -- published for an older version of the text
      end
      keys[covered] = true
    end
    for _, key in ipairs(case.undefined) do
      if not keys[key] then
        return false
      end
    end
    return vim.tbl_count(keys) == #case.undefined
  end
  record.diagnostics_settled = vim.wait(TIMEOUT, fresh_and_complete, 100)
  record.diagnostics = {}
  for _, d in ipairs(diagnostics) do
    local text = vim.api.nvim_buf_get_lines(bufnr, d.lnum, d.lnum + 1, true)[1]
    local covered = text:sub(d.col + 1, d.end_col)
    table.insert(record.diagnostics, { lnum = d.lnum, col = d.col, end_col = d.end_col, message = d.message,
      covered = covered, severity = d.severity, source = d.source })
    say('diagnostic %d:%d-%d %s  [covers %q]', d.lnum + 1, d.col, d.end_col, d.message, covered)
  end

  if record.key_at then
    navigate(case, record, bufnr)
  end
end

local function keystrokes(open, close)
  return {
    -- papercite's omnifunc: title words, then the cursor inside a key (the whole key is replaced)
    { line = 'By keys ' .. open .. close, at = 'By keys ' .. open, type = 'iresidual learning<C-x><C-o>',
      expect = 'By keys ' .. open .. 'he2016deep' .. close },
    { line = 'Inside ' .. open .. 'vaswani2017attention' .. close .. ' a key', at = 'Inside ' .. open .. 'vas',
      type = 'i<C-x><C-o>', expect = 'Inside ' .. open .. 'vaswani2017attention' .. close .. ' a key' },
    -- Neovim's own vim.lsp.omnifunc, for the record: a key prefix, then title words
    { line = 'Builtin ' .. open .. close, at = 'Builtin ' .. open, type = 'ihe2016<C-x><C-o>',
      omnifunc = 'v:lua.vim.lsp.omnifunc', builtin = true, expect = 'Builtin ' .. open .. 'he2016deep' .. close },
    { line = 'Builtin ' .. open .. close, at = 'Builtin ' .. open, type = 'iresidual learning<C-x><C-o>',
      omnifunc = 'v:lua.vim.lsp.omnifunc', builtin = true, expect = 'Builtin ' .. open .. 'he2016deep' .. close },
  }
end

local cases = {
  {
    file = 'draft.tex',
    anchor = '\\\\begin{document}',
    before = 'Emoji 🙂 Schölkopf \\cite{nobody2099emoji} and \\cite{attention is all',
    after = '}',
    expect = 'vaswani2017attention',
    rename = 'vaswani2017transformer',
    keys = keystrokes('\\cite{', '}'),
    undefined = { 'smith2099imaginary', 'nobody2099emoji' },
  },
  {
    file = 'draft.md',
    anchor = '^# Background',
    before = 'Emoji 🙂 Schölkopf [@nobody2099emoji] and [@attention is all',
    after = ']',
    expect = 'vaswani2017attention',
    rename = 'vaswani2017transformer',
    keys = keystrokes('[@', ']'),
    undefined = { 'doe2099missing', 'nobody2099emoji' },
  },
}

driver = coroutine.create(function()
  local ok, err = xpcall(function()
    setup()
    for _, case in ipairs(cases) do
      run_case(case)
    end
  end, debug.traceback)
  if not ok then
    table.insert(out.errors, err)
    say('ERROR: %s', err)
  end
  finish()
end)
local ok, err = coroutine.resume(driver)
if not ok then
  table.insert(out.errors, err)
  finish()
end
