// SSE read with fetch and a ReadableStream. The answer runs as a background job; its events come
// from the job's resume stream, GET /v1/chat/completions/{id}?stream=true, each after an `id: N`
// line. When the stream breaks or ends before [DONE], the client asks again with
// &starting_after=<last id it took>: the server sends only later events, so none is lost or
// repeated. Comment lines (heartbeats) are skipped. The parser is as small as the server allows:
// LF line ends and one `data:` line per event, as OpenAI and the mock server send.

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** HTTP errors other than 5xx and 429 are not worth retrying. */
function httpError(status, body) {
  return Object.assign(new Error(`HTTP ${status}: ${body}`), { fatal: status < 500 && status !== 429 });
}

/** Streams the reply to `request` (a chat completion request); resolves to its text. Calls
 *  onEvent(n, text) once per job event n. `query` is appended to the stream's URL. */
export async function streamText(base, request, { onEvent = () => {}, query = '' } = {}) {
  const url = `${base}/v1/chat/completions`;
  const created = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...request, background: true }),
  });
  if (!created.ok) throw httpError(created.status, await created.text());
  const { id } = await created.json();

  let text = '';
  let last = null; // the id of the last event taken: the cursor
  for (let failures = 0; ; ) {
    let error = null;
    try {
      const after = last === null ? '' : `&starting_after=${last}`;
      const res = await fetch(`${url}/${id}?stream=true${after}${query}`);
      if (!res.ok) throw httpError(res.status, await res.text());
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (let r = await reader.read(); !r.done; r = await reader.read()) {
        buffer += r.value;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const lines = buffer.slice(0, end).split('\n');
          buffer = buffer.slice(end + 2);
          const field = (name) => lines.find((l) => l.startsWith(`${name}:`))?.slice(name.length + 1).trimStart();
          const data = field('data');
          if (data === undefined) continue; // a comment: a heartbeat
          if (data === '[DONE]') return text;
          const delta = JSON.parse(data).choices[0]?.delta?.content ?? '';
          text += delta;
          last = Number(field('id'));
          failures = 0;
          onEvent(last, delta);
        }
      }
    } catch (e) {
      if (e.fatal) throw e;
      error = e;
    }
    // Broken, or ended before [DONE]: try again, later each time nothing came.
    if (++failures > 5) throw error ?? new Error('the stream keeps ending before [DONE]');
    await sleep(100 * 2 ** failures);
  }
}
