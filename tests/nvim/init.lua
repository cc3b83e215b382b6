-- Drives Neovim (0.7 or newer) with connlint as its language server, for tests/neovim.rs:
--   CONNLINT_BIN=... CONNLINT_FILE=... CONNLINT_OUT=... nvim --headless --clean -u init.lua
-- Opens the file, waits for connlint's diagnostics, reads them back through vim.diagnostic.get(),
-- applies two quick fixes (the CL001 fix, then "Ignore CL101 on this line") by requesting
-- textDocument/codeAction and applying the workspace edit, and writes what it saw to CONNLINT_OUT.

local out = {}
local function say(line)
  table.insert(out, line)
end

local function describe(buf)
  local lines = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    local message = d.message:gsub('\n.*', '')
    table.insert(lines, string.format('%s %d:%d %s', d.code, d.lnum + 1, d.col + 1, message))
  end
  table.sort(lines)
  return lines
end

local function wait_for(what, buf, codes)
  local ok = vim.wait(20000, function()
    local now = {}
    for _, d in ipairs(vim.diagnostic.get(buf)) do
      table.insert(now, d.code)
    end
    table.sort(now)
    return table.concat(now, ',') == codes
  end, 20)
  if not ok then
    error(string.format('%s: wanted diagnostics [%s], have [%s]', what, codes, table.concat(describe(buf), '; ')))
  end
end

-- Requests the code actions at a diagnostic and applies the one whose title starts with `title`.
local function apply_action(client, buf, code, title)
  local target
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    if d.code == code then
      target = d
    end
  end
  assert(target, 'no ' .. code .. ' diagnostic')
  local position = { line = target.lnum, character = target.col }
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(buf) },
    range = { start = position, ['end'] = position },
    context = { diagnostics = {}, only = { 'quickfix' } },
  }
  local response = client.request_sync('textDocument/codeAction', params, 10000, buf)
  assert(response and response.result, 'no code actions: ' .. vim.inspect(response))
  for _, action in ipairs(response.result) do
    if vim.startswith(action.title, title) then
      vim.lsp.util.apply_workspace_edit(action.edit, client.offset_encoding)
      say('applied: ' .. action.title)
      return
    end
  end
  error('no action "' .. title .. '" among ' .. vim.inspect(response.result))
end

local function main()
  local file = assert(os.getenv('CONNLINT_FILE'), 'CONNLINT_FILE')
  vim.cmd('edit ' .. vim.fn.fnameescape(file))
  local buf = vim.api.nvim_get_current_buf()
  local config = {
    name = 'connlint',
    cmd = { assert(os.getenv('CONNLINT_BIN'), 'CONNLINT_BIN'), 'server' },
    root_dir = vim.fn.fnamemodify(file, ':p:h'),
  }
  local client_id
  if vim.lsp.start then -- Neovim 0.8 and newer
    client_id = vim.lsp.start(config)
  else -- Neovim 0.7 (Debian 12)
    client_id = vim.lsp.start_client(config)
    vim.lsp.buf_attach_client(buf, client_id)
  end
  local client = vim.lsp.get_client_by_id(client_id)

  wait_for('after opening', buf, 'CL001,CL101')
  for _, line in ipairs(describe(buf)) do
    say('diagnostic: ' .. line)
  end

  apply_action(client, buf, 'CL001', 'Fix CL001')
  wait_for('after the CL001 fix', buf, 'CL101')
  apply_action(client, buf, 'CL101', 'Ignore CL101 on this line')
  wait_for('after ignoring CL101', buf, '')

  for _, line in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
    say('text: ' .. line)
  end
end

local ok, err = pcall(main)
if not ok then
  say('error: ' .. tostring(err))
end
local wrote = pcall(vim.fn.writefile, out, os.getenv('CONNLINT_OUT') or 'connlint-nvim.out')
vim.cmd((ok and wrote) and 'qall!' or 'cquit! 1')
