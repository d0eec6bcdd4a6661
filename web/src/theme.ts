/**
 * Light and dark: the system's choice (prefers-color-scheme, followed live) until the user picks one with the
 * toggle; the pick is remembered (localStorage). The toggle cycles system → light → dark.
 */
import { $ } from './dom.js';

type Choice = 'system' | 'light' | 'dark';
const KEY = 'videoshop.theme';
const NEXT: Record<Choice, Choice> = { system: 'light', light: 'dark', dark: 'system' };
const NAME: Record<Choice, string> = { system: 'follows the system', light: 'light', dark: 'dark' };

export function initTheme(): void {
  const media = window.matchMedia('(prefers-color-scheme: light)');
  let choice = (localStorage.getItem(KEY) as Choice | null) ?? 'system';
  const apply = (): void => {
    const theme = choice === 'system' ? (media.matches ? 'light' : 'dark') : choice;
    document.documentElement.dataset.theme = theme;
    const button = $('theme-toggle');
    button.textContent = choice === 'system' ? '◐' : theme === 'light' ? '☀' : '☾';
    button.title = `Colour theme: ${NAME[choice]} (click to change)`;
    button.setAttribute('aria-label', button.title);
  };
  media.addEventListener('change', apply);
  $('theme-toggle').addEventListener('click', () => {
    choice = NEXT[choice];
    if (choice === 'system') localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, choice);
    apply();
  });
  apply();
}
