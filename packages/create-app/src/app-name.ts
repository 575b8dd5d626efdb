/**
 * The new app's name, from its directory: what `defineApp({ name })` and `package.json` accept
 * (lower-case letters, digits and dashes, starting with a letter).
 */
import path from 'node:path';

/**
 * The app name for a target directory: its base name in lower case, other characters as dashes.
 *
 * @example
 * appNameFor('/home/ada/My Shop') // 'my-shop'
 */
export function appNameFor(target: string): string {
  const name = path
    .basename(path.resolve(target))
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[^a-z]+/, '')
    .replace(/-+$/, '');
  return name === '' ? 'blueprint-app' : name;
}
