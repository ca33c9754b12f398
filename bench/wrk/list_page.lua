-- GET a page of 20 items after a random id (keyset pagination): wrk ... -- <seeded>
local seeded = 1

function init(args)
  seeded = tonumber(args[1])
end

function request()
  return wrk.format("GET", "/api/v1/items?limit=20&after=" .. math.random(0, seeded - 20))
end
