// SSE read with the browser's EventSource. The answer runs as a background job; EventSource reads
// the job's resume stream, GET /v1/chat/completions/{id}?stream=true, whose events carry `id: N`
// lines. When the stream breaks or ends, the browser itself reconnects after the server's
// `retry:` delay (about 3 s without one) and sends Last-Event-ID: N, so the server resumes after
// event N. The browser also skips comment lines (heartbeats).

/** Streams the reply to `request` (a chat completion request); resolves to its text. Calls
 *  onEvent(n, text) once per job event n. `query` is appended to the stream's URL. */
export async function streamText(base, request, { onEvent = () => {}, query = '' } = {}) {
  const url = `${base}/v1/chat/completions`;
  const created = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...request, background: true }),
  });
  if (!created.ok) throw new Error(`HTTP ${created.status}: ${await created.text()}`);
  const { id } = await created.json();

  return new Promise((resolve, reject) => {
    let text = '';
    const source = new EventSource(`${url}/${id}?stream=true${query}`);
    source.onmessage = (e) => {
      if (e.data === '[DONE]') {
        source.close();
        resolve(text);
        return;
      }
      const delta = JSON.parse(e.data).choices[0]?.delta?.content ?? '';
      text += delta;
      onEvent(Number(e.lastEventId), delta);
    };
    // A network error makes the browser reconnect; an HTTP error or a wrong type closes it.
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) reject(new Error('EventSource failed'));
    };
  });
}
