import type { ReactNode } from 'react';

/**
 * Renders the small Markdown subset our replies use — paragraphs, line breaks, bullet and
 * numbered lists, **bold**, [links](https://…) and bare https:// addresses — as React
 * elements. Nothing is parsed as HTML: every piece of text becomes a text node, so a reply can
 * never inject markup, and only http(s) and mailto links become anchors (a `javascript:` link
 * stays text).
 *
 * Kept here rather than taken from a Markdown library: swapping this file for react-markdown 10
 * (HTML skipped, the same elements allowed) grew the embeddable script from 290 kB to 408 kB
 * minified (90 kB to 125 kB gzip) in this project's vite build, for a subset this small.
 */

type Block =
  | { kind: 'paragraph'; lines: string[] }
  | { kind: 'bullets'; items: string[] }
  | { kind: 'numbers'; start: number; items: string[] };

const BULLET = /^\s*[-*•]\s+(.*)$/;
const NUMBER = /^\s*(\d{1,3})[.)]\s+(.*)$/;

function parseBlocks(text: string): Block[] {
  const blocks: Block[] = [];
  let current: Block | null = null;
  const flush = () => {
    if (current) blocks.push(current);
    current = null;
  };
  for (const raw of text.replace(/\r\n?/g, '\n').split('\n')) {
    const line = raw.trimEnd();
    if (line.trim() === '') {
      flush();
      continue;
    }
    const bullet = BULLET.exec(line);
    const number = bullet ? null : NUMBER.exec(line);
    if (bullet) {
      if (current?.kind !== 'bullets') {
        flush();
        current = { kind: 'bullets', items: [] };
      }
      current.items.push(bullet[1]);
    } else if (number) {
      if (current?.kind !== 'numbers') {
        flush();
        current = { kind: 'numbers', start: Number(number[1]), items: [] };
      }
      current.items.push(number[2]);
    } else if (current && current.kind !== 'paragraph') {
      // A line under a list item continues it.
      current.items[current.items.length - 1] += ` ${line.trim()}`;
    } else {
      if (!current) current = { kind: 'paragraph', lines: [] };
      current.lines.push(line);
    }
  }
  flush();
  return blocks;
}

/** http(s) and mailto only. */
export function safeHref(url: string): string | null {
  const trimmed = url.trim();
  if (/^https?:\/\/[^\s]+$/i.test(trimmed) || /^mailto:[^\s@]+@[^\s@]+$/i.test(trimmed)) return trimmed;
  return null;
}

function link(href: string, label: string, key: string): ReactNode {
  return (
    <a key={key} href={href} target="_blank" rel="noopener noreferrer nofollow">
      {label}
    </a>
  );
}

// [text](url) | **bold** | a bare http(s) address.
const INLINE = /\[([^\]\n]+)\]\(([^)\s]+)\)|\*\*([^*\n]+?)\*\*|(https?:\/\/[^\s<>()]+)/g;

function inline(text: string, keyPrefix: string): ReactNode[] {
  const nodes: ReactNode[] = [];
  let last = 0;
  let n = 0;
  for (const match of text.matchAll(INLINE)) {
    const index = match.index ?? 0;
    if (index > last) nodes.push(text.slice(last, index));
    const key = `${keyPrefix}-${n++}`;
    const [whole, label, url, bold, bare] = match;
    if (label !== undefined && url !== undefined) {
      const href = safeHref(url);
      nodes.push(href ? link(href, label, key) : whole);
    } else if (bold !== undefined) {
      nodes.push(<strong key={key}>{inline(bold, key)}</strong>);
    } else if (bare !== undefined) {
      // A sentence's closing mark is not part of the address.
      const address = bare.replace(/[.,;:!?]+$/, '');
      const href = safeHref(address);
      nodes.push(href ? link(href, address, key) : address);
      if (address.length < bare.length) nodes.push(bare.slice(address.length));
    }
    last = index + whole.length;
  }
  if (last < text.length) nodes.push(text.slice(last));
  return nodes;
}

/** The reply as React elements (see the module comment for the subset). */
export function Markdown({ text }: { text: string }) {
  return (
    <>
      {parseBlocks(text).map((block, b) => {
        const key = `b${b}`;
        if (block.kind === 'bullets') {
          return (
            <ul key={key}>
              {block.items.map((item, i) => (
                <li key={i}>{inline(item, `${key}-${i}`)}</li>
              ))}
            </ul>
          );
        }
        if (block.kind === 'numbers') {
          return (
            <ol key={key} start={block.start === 1 ? undefined : block.start}>
              {block.items.map((item, i) => (
                <li key={i}>{inline(item, `${key}-${i}`)}</li>
              ))}
            </ol>
          );
        }
        return (
          <p key={key}>
            {block.lines.map((line, i) => (
              <span key={i}>
                {i > 0 && <br />}
                {inline(line, `${key}-${i}`)}
              </span>
            ))}
          </p>
        );
      })}
    </>
  );
}
