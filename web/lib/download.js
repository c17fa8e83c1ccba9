// CSV made on the device from tables already fetched, and saving text as a
// file. The CSV is written the way the server writes its own (`Accept:
// text/csv`): a header row, `\n` between records, a cell quoted only when it
// holds a comma, a quote or a line break, and a cell that a spreadsheet could
// run (beginning with = + - @, a tab or a carriage return) led by `'`.

/**
 * One cell as the server writes it.
 * @param {string} cell
 */
function csvCell(cell) {
  const safe = /^[=+\-@\t\r]/.test(cell) ? `'${cell}` : cell;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

/**
 * @param {(string | number | null | undefined)[][]} records the header row first
 * @returns {string}
 */
export function csvOf(records) {
  return records.map((r) => r.map((c) => csvCell(c === null || c === undefined ? '' : String(c))).join(',') + '\n').join('');
}

/**
 * Saves text as a file through the browser's download (nothing is sent anywhere).
 * @param {string} filename
 * @param {string} text
 * @param {string} [type]
 */
export function saveText(filename, text, type = 'text/csv;charset=utf-8') {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 30_000);
}
