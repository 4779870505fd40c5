// WebSocket, as OpenAI's Responses API WebSocket mode (here its chat twin, an ssebench
// extension): one message asks for a turn, each event comes as one text frame, [DONE] ends it.
// The browser answers the server's pings by itself. That mode has no resume (no background job,
// no cursor): a socket that breaks mid-turn loses the turn, and this client rejects with the
// number of events it had, never repeating one.

/** Streams the reply to `request` (a chat completion request); resolves to its text. Calls
 *  onEvent(n, text) once per event n. */
export function streamText(base, request, { onEvent = () => {} } = {}) {
  return new Promise((resolve, reject) => {
    let text = '';
    let n = 0;
    const socket = new WebSocket(`${base.replace(/^http/, 'ws')}/v1/chat/completions`);
    socket.onopen = () => socket.send(JSON.stringify({ type: 'chat.completions.create', ...request }));
    socket.onmessage = (e) => {
      if (e.data === '[DONE]') {
        socket.close();
        resolve(text);
        return;
      }
      const event = JSON.parse(e.data);
      if (event.type === 'error') {
        socket.close();
        reject(new Error(event.error.message));
        return;
      }
      const delta = event.choices[0]?.delta?.content ?? '';
      text += delta;
      onEvent(n++, delta);
    };
    // After a resolve or a reject this changes nothing.
    socket.onclose = (e) => reject(new Error(`the socket closed after ${n} events (code ${e.code}): no resume`));
  });
}
