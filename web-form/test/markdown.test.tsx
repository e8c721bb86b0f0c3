import { render } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { Markdown, safeHref } from '../src/markdown';

function html(text: string): HTMLElement {
  return render(
    <div>
      <Markdown text={text} />
    </div>,
  ).container.firstElementChild as HTMLElement;
}

describe('Markdown', () => {
  it('renders paragraphs, line breaks, lists, bold and links', () => {
    const root = html(
      'Hello Maria,\n\nTo turn on 2FA:\n1. Open **Settings**.\n2. Choose Security\nand follow the steps.\n\n- one\n- two\n\nSee [the guide](https://help.orbitask.example/2fa) or https://status.orbitask.example.',
    );
    expect(root.querySelectorAll('p')).toHaveLength(3);
    expect(root.querySelector('p')?.textContent).toBe('Hello Maria,');
    const steps = root.querySelectorAll('ol > li');
    expect(steps).toHaveLength(2);
    expect(steps[0].querySelector('strong')?.textContent).toBe('Settings');
    expect(steps[1].textContent).toBe('Choose Security and follow the steps.');
    expect(root.querySelectorAll('ul > li')).toHaveLength(2);
    const links = root.querySelectorAll('a');
    expect(Array.from(links).map((a) => a.getAttribute('href'))).toEqual([
      'https://help.orbitask.example/2fa',
      'https://status.orbitask.example',
    ]);
    expect(links[1].textContent).toBe('https://status.orbitask.example');
    expect(root.textContent?.endsWith('status.orbitask.example.')).toBe(true);
    for (const a of Array.from(links)) {
      expect(a.getAttribute('rel')).toBe('noopener noreferrer nofollow');
      expect(a.getAttribute('target')).toBe('_blank');
    }
  });

  it('never makes markup or a script link from text', () => {
    const root = html(
      '<img src=x onerror=alert(1)> **<b>bold</b>** [click](javascript:alert(1)) [mail](mailto:help@orbitask.example)',
    );
    expect(root.querySelector('img, b, script')).toBeNull();
    expect(root.textContent).toContain('<img src=x onerror=alert(1)>');
    expect(root.textContent).toContain('[click](javascript:alert(1))');
    const links = Array.from(root.querySelectorAll('a'));
    expect(links.map((a) => a.getAttribute('href'))).toEqual(['mailto:help@orbitask.example']);
  });

  it('allows only http(s) and mailto addresses', () => {
    expect(safeHref('https://orbitask.example/a?b=c')).toBe('https://orbitask.example/a?b=c');
    expect(safeHref('HTTP://x.example')).toBe('HTTP://x.example');
    expect(safeHref('javascript:alert(1)')).toBeNull();
    expect(safeHref('data:text/html,hi')).toBeNull();
    expect(safeHref('//evil.example')).toBeNull();
    expect(safeHref('mailto:someone')).toBeNull();
  });

  it('numbers a list from its first step', () => {
    const root = html('3. Third\n4. Fourth');
    expect(root.querySelector('ol')?.getAttribute('start')).toBe('3');
  });
});
