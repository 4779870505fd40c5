// Long polling. The answer runs as a background job; the client asks for the job's events after
// its cursor, GET /v1/chat/completions/{id}?shape=events&starting_after=C&wait_ms=W, which the
// server holds until an event is due (or W ms pass), and asks again at once with the answer's
// `cursor`. A failed poll changes nothing and is asked again after a backoff, so no event is lost
// or repeated.

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** HTTP errors other than 5xx and 429 are not worth retrying. */
function httpError(status, body) {
  return Object.assign(new Error(`HTTP ${status}: ${body}`), { fatal: status < 500 && status !== 429 });
}

/** Streams the reply to `request` (a chat completion request); resolves to its text. Calls
 *  onEvent(n, text) once per job event n. */
export async function streamText(base, request, { onEvent = () => {}, waitMs = 20000 } = {}) {
  const url = `${base}/v1/chat/completions`;
  const created = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...request, background: true }),
  });
  if (!created.ok) throw httpError(created.status, await created.text());
  const { id } = await created.json();

  let text = '';
  let cursor = null;
  for (let failures = 0; ; ) {
    try {
      const after = cursor === null ? '' : `&starting_after=${cursor}`;
      const res = await fetch(`${url}/${id}?shape=events&wait_ms=${waitMs}${after}`);
      if (!res.ok) throw httpError(res.status, await res.text());
      const job = await res.json();
      job.events.forEach((event, i) => {
        const delta = event.choices[0]?.delta?.content ?? '';
        text += delta;
        onEvent(job.cursor - job.events.length + 1 + i, delta);
      });
      cursor = job.cursor;
      failures = 0;
      if (job.status !== 'queued' && job.status !== 'in_progress') return text;
    } catch (e) {
      if (e.fatal || ++failures > 5) throw e;
      await sleep(100 * 2 ** failures);
    }
  }
}
