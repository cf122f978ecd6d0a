# fetch: an action that GETs a URL, stores the body in the CAS, and answers
# {status, hash, bytes}: the HTTP status, the body's hash, its size.
#
#   open handlers/fetch.nu | xs append xs.action.fetch.register
#   let page = (xs call fetch --args {url: https://example.com})
#   xs cas $page.hash
#
# Any status is an answer (a 404 is {status: 404, ...}); a URL that cannot
# be reached is an error, which `xs call` raises with nushell's message.
{
  run: {|frame|
    let url = $frame.meta.args.url
    let response = (http get --full --raw --allow-errors $url)
    let body = ($response.body | into binary)
    let hash = ($body | xs cas put)
    {status: $response.status, hash: $hash, bytes: ($body | bytes length)}
  }
}
