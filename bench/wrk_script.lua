-- wrk script for bench_http.py: Authorization header, random SKUs per request, JSON summary.
-- Environment: OMS_KEY (bearer key), OMS_MODE (hello | get | cart | search), OMS_SKUS, OMS_CART.
local key = os.getenv("OMS_KEY") or ""
local mode = os.getenv("OMS_MODE") or "hello"
local skus = tonumber(os.getenv("OMS_SKUS") or "1000")
local cart = tonumber(os.getenv("OMS_CART") or "20")

local function sku(i) return string.format("SKU-%06d", i) end

function init(args)
  math.randomseed(os.time() + (tonumber(tostring({}):sub(8), 16) or 0))
end

function request()
  local headers = { ["Authorization"] = "Bearer " .. key }
  if mode == "get" then
    return wrk.format("GET", "/v1/availability?channel=web&sku=" .. sku(math.random(skus)), headers)
  elseif mode == "search" then
    local channels = {"web", "app", "marketplace", "kiosk", "call_center"}
    local statuses = {"created", "in_progress", "partially_shipped", "shipped", "delivered",
                      "backordered", "partially_backordered", "cancelled"}
    return wrk.format("GET", "/v1/orders?channel=" .. channels[math.random(#channels)] ..
                      "&status=" .. statuses[math.random(#statuses)], headers)
  elseif mode == "cart" then
    local items = {}
    for i = 1, cart do items[i] = '"' .. sku(math.random(skus)) .. '"' end
    headers["Content-Type"] = "application/json"
    local body = '{"channel":"web","skus":[' .. table.concat(items, ",") .. ']}'
    return wrk.format("POST", "/v1/availability", headers, body)
  end
  return wrk.format("GET", "/hello", headers)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,' ..
    '"p999_us":%d,"max_us":%d,"mean_us":%.1f,"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9), latency.max, latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout))
end
