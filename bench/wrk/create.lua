-- POST a new item; names are unique per run, thread and request: wrk ... -- <run prefix>
local threads = 0
local prefix = ""
local sent = 0
local headers = { ["Content-Type"] = "application/json" }

function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end

function init(args)
  prefix = args[1] .. "-" .. thread_number .. "-"
end

function request()
  sent = sent + 1
  return wrk.format("POST", "/api/v1/items", headers, '{"name": "' .. prefix .. sent .. '"}')
end
