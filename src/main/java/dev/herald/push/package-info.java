/** Server push and early hints: which resources a page needs (discovery, learning from Referer), within a budget, minus what the cache digest cookie says the browser holds, announced before the page. */
package dev.herald.push;
