/** Server push and early hints: which resources a page needs (discovery), within a budget, announced before the page. */
package dev.herald.push;
