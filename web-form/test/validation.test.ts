import { describe, expect, it } from 'vitest';
import {
  CATEGORIES,
  CATEGORY_LABELS,
  EMAIL_MAX,
  EMPTY_VALUES,
  MESSAGE_MAX,
  MESSAGE_MIN,
  NAME_MAX,
  NAME_MIN,
  SUBJECT_MAX,
  SUBJECT_MIN,
  charCount,
  isValidEmail,
  normalizePhone,
  toPayload,
  trimValue,
  validateCategory,
  validateEmail,
  validateForm,
  validateMessage,
  validateName,
  validatePhone,
  validatePriority,
  validateSubject,
} from '../src/validation';
import type { FormValues } from '../src/validation';

const valid: FormValues = {
  ...EMPTY_VALUES,
  name: 'Maria Lopez',
  email: 'maria@example.com',
  subject: 'Cannot reset my password',
  category: 'technical',
  message: 'The reset link in the email does not open.',
};

describe('constants', () => {
  it('match the gateway limits', () => {
    expect([NAME_MIN, NAME_MAX]).toEqual([2, 100]);
    expect(EMAIL_MAX).toBe(254);
    expect([SUBJECT_MIN, SUBJECT_MAX]).toEqual([5, 200]);
    expect([MESSAGE_MIN, MESSAGE_MAX]).toEqual([10, 5000]);
    expect(CATEGORIES).toEqual(['general', 'technical', 'billing', 'feedback', 'bug_report']);
    expect(Object.values(CATEGORY_LABELS)).toEqual([
      'General question',
      'Technical support',
      'Billing',
      'Feedback',
      'Bug report',
    ]);
  });
});

describe('trimValue and charCount', () => {
  it('trims Unicode White_Space like the server', () => {
    expect(trimValue('  \t\n ab \u00a0\u3000')).toBe('ab');
    expect(trimValue('\u0085ab\u0085')).toBe('ab');
    // U+FEFF is not White_Space: the server keeps it, so do we.
    expect(trimValue('\ufeffab')).toBe('\ufeffab');
  });

  it('counts code points, not UTF-16 units', () => {
    expect(charCount('ab')).toBe(2);
    expect(charCount('\u{1F600}')).toBe(1);
    expect(charCount('é')).toBe(1);
  });
});

describe('name', () => {
  it('requires 2 to 100 characters after trimming', () => {
    expect(validateName('')).toBe('Enter your name.');
    expect(validateName('   ')).toBe('Enter your name.');
    expect(validateName('A')).toMatch(/at least 2/);
    expect(validateName('  A  ')).toMatch(/at least 2/);
    expect(validateName('Al')).toBeUndefined();
    expect(validateName('a'.repeat(100))).toBeUndefined();
    expect(validateName(`  ${'a'.repeat(100)}  `)).toBeUndefined();
    expect(validateName('a'.repeat(101))).toMatch(/at most 100/);
  });

  it('counts an astral character as one', () => {
    expect(validateName('\u{1F600}')).toMatch(/at least 2/);
    expect(validateName('\u{1F600}'.repeat(100))).toBeUndefined();
  });
});

describe('email', () => {
  it.each([
    'maria@example.com',
    '  maria@example.com  ',
    'a@b.c',
    'first.last+tag@sub.example.co.uk',
  ])('accepts %j', (email) => {
    expect(isValidEmail(email)).toBe(true);
    expect(validateEmail(email)).toBeUndefined();
  });

  it.each([
    ['no at sign', 'maria.example.com'],
    ['two at signs', 'maria@@example.com'],
    ['two at signs apart', 'ma@ria@example.com'],
    ['empty local part', '@example.com'],
    ['domain without a dot', 'maria@localhost'],
    ['empty domain', 'maria@'],
    ['inner space', 'maria lopez@example.com'],
    ['space in domain', 'maria@exa mple.com'],
    ['tab inside', 'maria@exa\tmple.com'],
  ])('rejects %s', (_label, email) => {
    expect(isValidEmail(email)).toBe(false);
    expect(validateEmail(email)).toBeDefined();
  });

  it('requires a value', () => {
    expect(validateEmail('')).toBe('Enter your email address.');
    expect(validateEmail('  ')).toBe('Enter your email address.');
  });

  it('allows at most 254 characters', () => {
    const domain = '@example.com'; // 12 characters
    const at254 = 'a'.repeat(254 - domain.length) + domain;
    const at255 = 'a'.repeat(255 - domain.length) + domain;
    expect(at254).toHaveLength(254);
    expect(validateEmail(at254)).toBeUndefined();
    expect(validateEmail(` ${at254} `)).toBeUndefined();
    expect(validateEmail(at255)).toMatch(/at most 254/);
  });
});

describe('subject', () => {
  it('requires 5 to 200 characters after trimming', () => {
    expect(validateSubject('')).toBe('Enter a subject.');
    expect(validateSubject('abcd')).toMatch(/at least 5/);
    expect(validateSubject('  abcd  ')).toMatch(/at least 5/);
    expect(validateSubject('abcde')).toBeUndefined();
    expect(validateSubject('a'.repeat(200))).toBeUndefined();
    expect(validateSubject('a'.repeat(201))).toMatch(/at most 200/);
  });
});

describe('message', () => {
  it('requires 10 to 5000 characters after trimming', () => {
    expect(validateMessage('')).toBe('Enter your message.');
    expect(validateMessage('a'.repeat(9))).toMatch(/at least 10/);
    expect(validateMessage(`   ${'a'.repeat(9)}\n\n`)).toMatch(/at least 10/);
    expect(validateMessage('a'.repeat(10))).toBeUndefined();
    expect(validateMessage('a'.repeat(5000))).toBeUndefined();
    expect(validateMessage(`\n${'a'.repeat(5000)}\n`)).toBeUndefined();
    expect(validateMessage('a'.repeat(5001))).toMatch(/at most 5000/);
  });

  it('counts 5000 emoji as 5000 characters', () => {
    expect(validateMessage('\u{1F600}'.repeat(5000))).toBeUndefined();
    expect(validateMessage('\u{1F600}'.repeat(5001))).toMatch(/at most 5000/);
  });
});

describe('category and priority', () => {
  it('accepts only the five categories', () => {
    for (const c of CATEGORIES) expect(validateCategory(c)).toBeUndefined();
    expect(validateCategory('')).toBe('Choose a category.');
    expect(validateCategory('sales')).toBe('Choose a category.');
    expect(validateCategory('Billing')).toBe('Choose a category.');
  });

  it('accepts low, medium and high', () => {
    for (const p of ['low', 'medium', 'high']) expect(validatePriority(p)).toBeUndefined();
    expect(validatePriority('urgent')).toBeDefined();
    expect(EMPTY_VALUES.priority).toBe('medium');
  });
});

describe('phone', () => {
  it('is optional', () => {
    expect(validatePhone('')).toBeUndefined();
    expect(validatePhone('   ')).toBeUndefined();
  });

  it.each([
    '+34 612 345 678',
    '+34612345678',
    '+1 (415) 867-5309',
    '+44.20.7946.0958',
    '+4915123456789',
    '+1234567', // 7 digits after +: the shortest allowed
    '+123456789012345', // 15 digits: the longest allowed
    ' +34 612 345 678 ',
  ])('accepts %j', (phone) => {
    expect(validatePhone(phone)).toBeUndefined();
  });

  it.each([
    ['no plus sign', '34 612 345 678'],
    ['leading zero country code', '+0 612 345 678'],
    ['too short (6 digits)', '+123456'],
    ['too long (16 digits)', '+1234567890123456'],
    ['letters', '+34 612 ABC 678'],
    ['slash separator', '+34/612/345/678'],
    ['two plus signs', '++34612345678'],
    ['plus not first', '34+612345678'],
  ])('rejects %s', (_label, phone) => {
    expect(validatePhone(phone)).toMatch(/country code/);
  });

  it('removes spaces, dashes, dots and parentheses before matching', () => {
    expect(normalizePhone(' +1 (415) 867-5309 ')).toBe('+14158675309');
    expect(normalizePhone('+44.20.7946.0958')).toBe('+442079460958');
  });
});

describe('validateForm and toPayload', () => {
  it('passes a complete form', () => {
    expect(validateForm(valid)).toEqual({});
  });

  it('reports every invalid field', () => {
    const errors = validateForm({ ...EMPTY_VALUES, phone: '12' });
    expect(Object.keys(errors)).toEqual(['name', 'email', 'phone', 'category', 'subject', 'message']);
  });

  it('sends only the fields the server accepts, trimmed, with the honeypot as typed', () => {
    const payload = toPayload({ ...valid, name: '  Maria Lopez ', website: ' ' });
    expect(payload).toEqual({
      name: 'Maria Lopez',
      email: 'maria@example.com',
      subject: 'Cannot reset my password',
      category: 'technical',
      message: 'The reset link in the email does not open.',
      priority: 'medium',
      website: ' ',
    });
    expect('phone' in payload).toBe(false);
  });

  it('includes the phone number when given', () => {
    expect(toPayload({ ...valid, phone: ' +34 612 345 678 ' }).phone).toBe('+34 612 345 678');
  });
});
