// Light and dark themes: follows the system setting unless the user picks one, which is kept
// in localStorage. The choice is a `data-theme` attribute on <html>; style.css does the rest.
const KEY = 'runnel-theme';

export function storedTheme() {
  return localStorage.getItem(KEY) || 'system';
}

export function applyTheme(choice = storedTheme()) {
  const dark = choice === 'dark' || (choice === 'system' && matchMedia('(prefers-color-scheme: dark)').matches);
  document.documentElement.dataset.theme = dark ? 'dark' : 'light';
}

export function setTheme(choice) {
  if (choice === 'system') localStorage.removeItem(KEY);
  else localStorage.setItem(KEY, choice);
  applyTheme(choice);
}

matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => applyTheme());
applyTheme();
