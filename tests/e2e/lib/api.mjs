// A JSON API client for one org host of a started stack: bearer token, JSON body, optional
// If-Match.
export function jsonApi(stack, host) {
  return (token, method, path, { body, ifMatch } = {}) => stack.send({
    host, method, path,
    headers: {
      authorization: `Bearer ${token}`, 'content-type': 'application/json',
      ...(ifMatch ? { 'if-match': ifMatch } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}
