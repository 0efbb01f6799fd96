// A WebSocket that comes back: when the connection drops (not when we close it), it reconnects
// after 0.5 s, 1 s, 2 s … up to 15 s, and reports each state so the page can say so.
const MAX_DELAY_MS = 15000;

export function wsUrl(path) {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${path}`;
}

/**
 * Opens `url()` (a function, so each reconnect can resume from where the last one stopped).
 * handlers: onOpen(socket), onMessage(data), onStatus({state, attempt, delay, reason}).
 * Returns { send(obj), close() }.
 */
export function connect(url, { onOpen, onMessage, onStatus }) {
  let socket = null;
  let closed = false;
  let attempt = 0;
  let timer = null;

  function open() {
    onStatus({ state: attempt ? 'reconnecting' : 'connecting', attempt });
    socket = new WebSocket(url());
    socket.onopen = () => {
      attempt = 0;
      onStatus({ state: 'open' });
      onOpen && onOpen(socket);
    };
    socket.onmessage = (ev) => onMessage(JSON.parse(ev.data));
    socket.onclose = (ev) => {
      if (closed) return;
      attempt += 1;
      const delay = Math.min(MAX_DELAY_MS, 500 * 2 ** (attempt - 1));
      onStatus({ state: 'lost', attempt, delay, reason: ev.reason || `code ${ev.code}` });
      timer = setTimeout(open, delay);
    };
  }
  open();

  return {
    send(obj) {
      if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(obj));
    },
    close() {
      closed = true;
      clearTimeout(timer);
      if (socket) socket.close();
    },
  };
}
