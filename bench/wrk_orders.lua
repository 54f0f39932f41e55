-- wrk script for bench_orders.py: 3-line orders with distinct random SKUs, ship-tos at real
-- ZIP coordinates, a unique Idempotency-Key per request, and a JSON summary.
-- Environment: OMS_KEY (bearer key), OMS_SKUS (SKU count), OMS_SHIPTOS (file of "lat,lon").
local key = os.getenv("OMS_KEY") or ""
local skus = tonumber(os.getenv("OMS_SKUS") or "1000")
local shiptos = {}
local counter = 0
local prefix = ""

local function sku(i) return string.format("SKU-%06d", i) end

function setup(thread)
  thread:set("prefix", tostring(math.random(1, 1e9)))
end

function init(args)
  math.randomseed(os.time() + (tonumber(tostring({}):sub(8), 16) or 0))
  prefix = prefix .. "-" .. tostring(math.random(1, 1e9))
  for line in io.lines(os.getenv("OMS_SHIPTOS")) do shiptos[#shiptos + 1] = line end
end

function request()
  counter = counter + 1
  local a = math.random(skus)
  local b = (a + math.random(1, skus - 2)) % skus + 1
  local c = b
  while c == a or c == b do c = math.random(skus) end
  local lat, lon = shiptos[math.random(#shiptos)]:match("([^,]+),([^,]+)")
  local body = string.format(
    '{"channel":"web","ship_to":{"lat":%s,"lon":%s},"lines":[' ..
    '{"sku":"%s","quantity":1},{"sku":"%s","quantity":1},{"sku":"%s","quantity":1}]}',
    lat, lon, sku(a), sku(b), sku(c))
  local headers = { ["Authorization"] = "Bearer " .. key,
                    ["Content-Type"] = "application/json",
                    ["Idempotency-Key"] = prefix .. "-" .. counter }
  return wrk.format("POST", "/v1/orders", headers, body)
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
