-- GET one item by id, chosen at random among the seeded ones: wrk ... -- <seeded>
local seeded = 1

function init(args)
  seeded = tonumber(args[1])
end

function request()
  return wrk.format("GET", "/api/v1/items/" .. math.random(seeded))
end
