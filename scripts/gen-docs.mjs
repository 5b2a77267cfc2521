// Generates docs/api.md, the API reference, from the TSDoc of every public
// export, with the TypeScript compiler API (typescript is already a dev
// dependency; typedoc would be a second toolchain for one page).
//
//   node scripts/gen-docs.mjs            write docs/api.md
//   node scripts/gen-docs.mjs --check    exit 1 if docs/api.md is stale or an export is undocumented
//
// What is public is what package.json "exports" names: each entry point's
// dist/X.js maps back to lib/X.ts, and every symbol that module exports
// (through `export *` too) is documented, except @internal ones (which
// `stripInternal` also keeps out of the shipped .d.ts). Classes and interfaces
// list their own public members. A kernel-doc `Context:` / `Return:` line
// becomes its own paragraph. The output depends only on the sources: no dates,
// no values that vary with the environment (types are printed, not values).
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(root, 'docs', 'api.md');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

/** package.json exports → [{ spec: 'ktimers/promises', file: /abs/lib/promises.ts }] */
function entryPoints() {
  const out = [];
  for (const [key, value] of Object.entries(pkg.exports)) {
    const target = typeof value === 'string' ? value : value.default;
    const m = /^\.\/dist\/(.+)\.js$/.exec(target ?? '');
    if (!m) continue; // ./package.json
    out.push({ spec: key === '.' ? pkg.name : `${pkg.name}/${key.slice(2)}`, file: join(root, 'lib', `${m[1]}.ts`) });
  }
  return out;
}

/** Reading order of the main entry point: kernel timers first, then the support modules, then the idiomatic layer. */
const GROUP_ORDER = [
  'lib/hrtimer/index.ts', 'lib/ktime.ts', 'lib/timer/index.ts', 'lib/jiffies.ts', 'lib/workqueue/index.ts', 'lib/context.ts', 'lib/sched.ts',
  'lib/kthread/index.ts', 'lib/kfifo/index.ts',
  'lib/api/duration.ts', 'lib/api/high-res-timer.ts', 'lib/api/work-queue.ts', 'lib/errors.ts',
];

/** Modules that export kernel names: their snake_case functions get kernel-doc's Context:/Return: lines. */
const KERNEL_MODULES = ['lib/hrtimer/index.ts', 'lib/ktime.ts', 'lib/timer/index.ts', 'lib/jiffies.ts', 'lib/workqueue/index.ts', 'lib/context.ts', 'lib/sched.ts'];

/**
 * A file of a kernel area's folder (lib/workqueue/work.ts) is documented with its
 * area, under the folder's index.ts, ranked by where index.ts re-exports it.
 */
function areaOf(file) {
  const m = /^lib\/([^/]+)\/[^/]+\.ts$/.exec(file);
  if (!m || ['internal', 'api', 'cyclictest'].includes(m[1])) return null;
  const index = `lib/${m[1]}/index.ts`;
  if (!existsSync(join(root, index))) return null;
  const order = [...readFileSync(join(root, index), 'utf8').matchAll(/from '\.\/([^']+)\.js'/g)].map((x) => `lib/${m[1]}/${x[1]}.ts`);
  return { index, rank: order.indexOf(file) + 1 };
}

const FLAGS = ts.TypeFormatFlags.NoTruncation | ts.TypeFormatFlags.UseSingleQuotesForStringLiteralType;

export function generate() {
  const entries = entryPoints();
  const tsconfig = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.json'), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  });
  const program = ts.createProgram(entries.map((e) => e.file), { ...tsconfig.options, noEmit: true });
  const checker = program.getTypeChecker();
  const undocumented = [];
  /** resolved symbol → anchor of its first documentation */
  const anchors = new Map();
  const usedIds = new Set();

  const resolve = (sym) => (sym.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(sym) : sym);
  const isInternal = (sym) => sym.getJsDocTags(checker).some((t) => t.name === 'internal');
  /** The last module outside lib/internal on the chain of re-exports that leads from `exp` to its declaration. */
  const publicHome = (exp) => {
    let home;
    for (let s = exp; s && s.flags & ts.SymbolFlags.Alias; s = checker.getImmediateAliasedSymbol(s)) {
      const f = s.declarations?.[0] && relative(root, s.declarations[0].getSourceFile().fileName);
      if (f && !f.startsWith('lib/internal/')) home = f;
    }
    return home;
  };
  const ownDecl = (sym) => sym.declarations?.find((d) => d.getSourceFile().fileName.startsWith(join(root, 'lib')));
  const memberName = (sym) => {
    const m = /^__@(\w+)@\d+$/.exec(sym.name);
    return m ? `[Symbol.${m[1]}]` : sym.name;
  };
  const anchorId = (name) => {
    let id = name.replace(/[^\w.$-]/g, '');
    while (usedIds.has(id)) id += '_';
    usedIds.add(id);
    return id;
  };

  /** Doc comment parts → markdown; {@link X} becomes a link when X is documented. */
  function partsToMd(parts) {
    let s = '';
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      if (p.kind === 'link' && p.text.startsWith('{@link')) {
        let name = '';
        let text = '';
        for (i++; i < parts.length && !(parts[i].kind === 'link' && parts[i].text === '}'); i++) {
          if (parts[i].kind === 'linkName') name += parts[i].text;
          else text += parts[i].text;
        }
        const label = text.trim() || name;
        s += linkTo(name, label);
      } else s += p.text;
    }
    return s;
  }
  const pendingLinks = [];
  function linkTo(name, label) {
    // Resolved after every anchor exists (a link may point forward).
    const token = `\u0000${pendingLinks.length}\u0000`;
    pendingLinks.push([name, label]);
    return token;
  }
  function finishLinks(md) {
    return md.replace(/\u0000(\d+)\u0000/g, (_, i) => {
      const [name, label] = pendingLinks[Number(i)];
      return usedIds.has(name) ? `[\`${label}\`](#${name})` : `\`${label}\``;
    });
  }

  /** Paragraph-level formatting of a doc text: kernel-doc sections and lists stand on their own. */
  function prose(text) {
    const lines = text.split('\n');
    const out = [];
    for (const line of lines) {
      const prev = out.length ? out[out.length - 1] : '';
      // "Context: any. Return: 0 or 1." on one line: two paragraphs.
      const both = /^(Context:.*?[.;])\s+(Return:.*)$/.exec(line);
      if (both) {
        if (prev !== '') out.push('');
        out.push(`**Context:**${both[1].slice(8)}`, '', `**Return:**${both[2].slice(7)}`);
        continue;
      }
      const section = /^(Context|Return|Returns|Note|Notes):/.exec(line);
      if (section) {
        if (prev !== '') out.push('');
        out.push(`**${section[1]}:**${line.slice(section[0].length)}`);
        continue;
      }
      if (/^\s*[-*] /.test(line) && prev !== '' && !/^\s*[-*] /.test(prev) && !/^\s{2,}/.test(line)) out.push('');
      out.push(line);
    }
    return out.join('\n').trim();
  }

  /**
   * Kernel-doc puts `Context:` and `Return:` after the parameters; TSDoc folds
   * whatever follows a block tag into that tag. Such a trailing paragraph is
   * cut from the tag here and shown with the main text.
   */
  function splitKernelDoc(text) {
    const m = /(?:^|\n)\s*((?:Context|Return):[\s\S]*)$/.exec(text);
    return m ? [text.slice(0, m.index).trim(), m[1].trim()] : [text, ''];
  }

  function tagsMd(sym, sig, moved) {
    const tags = sig ? sig.getJsDocTags() : sym.getJsDocTags(checker);
    const params = [];
    const rest = [];
    for (const t of tags) {
      const [text, kdoc] = splitKernelDoc(partsToMd(t.text ?? []).trim());
      if (kdoc) moved.push(kdoc);
      if (t.name === 'param') {
        const m = /^(\S+)\s*(?:-\s*)?([\s\S]*)$/.exec(text);
        params.push(`- \`${m ? m[1] : text}\` — ${m ? m[2].replace(/\n\s*/g, ' ') : ''}`);
      } else if (t.name === 'returns' || t.name === 'return') rest.push(`**Returns:** ${text.replace(/\n\s*/g, ' ')}`);
      else if (t.name === 'throws') rest.push(`**Throws:** ${text.replace(/\n\s*/g, ' ')}`);
      else if (t.name === 'example') rest.push('**Example:**\n\n```js\n' + text.replace(/^```\w*\n?|```$/g, '').trim() + '\n```');
      else if (t.name === 'deprecated') rest.push(`**Deprecated.** ${text}`);
      else if (t.name === 'see') rest.push(`**See:** ${text}`);
      else if (t.name !== 'internal' && t.name !== 'override') rest.push(`**@${t.name}** ${text}`);
    }
    return [params.length ? `**Parameters:**\n\n${params.join('\n')}` : '', ...rest].filter(Boolean).join('\n\n');
  }

  /**
   * The doc of a symbol (or of one signature), checked: something must be
   * written; a function or method documents each parameter (@param); a kernel
   * name (snake_case, from a kernel module) also has kernel-doc's `Context:`
   * line and, unless it returns nothing, a `Return:` line.
   */
  function docOf(sym, sig, where) {
    const raw = sig ? sig.getDocumentationComment(checker) : sym.getDocumentationComment(checker);
    const moved = [];
    const tags = tagsMd(sym, sig, moved);
    const main = prose([partsToMd(raw), ...moved].filter(Boolean).join('\n\n'));
    if (!main && !tags) undocumented.push(where);
    else if (sig) {
      const tagList = sig.getJsDocTags();
      const documented = new Set(tagList.filter((t) => t.name === 'param').map((t) => (t.text ?? [])[0]?.text));
      const missing = sig.getParameters().map((p) => p.name).filter((n) => !documented.has(n));
      if (missing.length) undocumented.push(`${where}: @param ${missing.join(', ')}`);
      const file = relative(root, sig.declaration.getSourceFile().fileName);
      if (KERNEL_MODULES.includes(areaOf(file)?.index ?? file) && /^[a-z_][a-z0-9_]*$/.test(where)) {
        const text = [raw.map((p) => p.text).join(''), ...moved].join('\n');
        if (!/\bContext:/.test(text)) undocumented.push(`${where}: no Context: line`);
        const ret = checker.typeToString(sig.getReturnType());
        if (ret !== 'void' && !/\bReturn:/.test(text)) undocumented.push(`${where}: no Return: line`);
      }
    }
    return [main, tags].filter(Boolean).join('\n\n');
  }

  function signatures(sym, decl, name) {
    const type = checker.getTypeOfSymbolAtLocation(sym, decl);
    return type.getCallSignatures().map((sg) => `function ${name}${checker.signatureToString(sg, decl, FLAGS)}`);
  }

  function typeText(sym, decl) {
    return checker.typeToString(checker.getTypeOfSymbolAtLocation(sym, decl), decl, FLAGS);
  }

  /** The public members of a class or interface, each with its own doc. */
  function members(sym, decl, owner, isClass) {
    const out = [];
    const instance = checker.getDeclaredTypeOfSymbol(sym);
    const props = [...checker.getPropertiesOfType(instance)];
    if (isClass) {
      const statics = checker.getPropertiesOfType(checker.getTypeOfSymbolAtLocation(sym, decl)).filter((p) => p.name !== 'prototype');
      for (const p of statics) p.__static = true;
      props.unshift(...statics);
    }
    if (isClass) {
      const ctorType = checker.getTypeOfSymbolAtLocation(sym, decl);
      const ctors = ctorType.getConstructSignatures().filter((s) => s.declaration && ownDecl({ declarations: [s.declaration] }));
      for (const c of ctors) {
        if (c.getJsDocTags().some((t) => t.name === 'internal')) continue;
        const id = anchorId(`${owner}.constructor`);
        const sigText = `new ${owner}${checker.signatureToString(c, decl, FLAGS).replace(/: \w+$/, '')}`;
        out.push(`<a id="${id}"></a>\n#### \`new ${owner}(…)\`\n\n\`\`\`ts\n${sigText}\n\`\`\`\n\n${docOf(sym, c, `${owner} constructor`)}`);
      }
    }
    for (const p of props) {
      const d = ownDecl(p);
      if (!d || d.getSourceFile() !== decl.getSourceFile()) continue; // inherited from Error & co
      if (p.name.startsWith('#') || p.name.startsWith('_') || isInternal(p)) continue;
      const mods = ts.getCombinedModifierFlags(d);
      if (mods & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) continue;
      const name = memberName(p);
      // Instance members read as Class#member (static: Class.member); interface fields by name.
      const label = p.__static ? `${owner}.${name}` : isClass ? `${owner}#${name}` : name;
      const id = anchorId(`${owner}.${name}`);
      let sigText;
      let sig;
      if (ts.isMethodDeclaration(d) || ts.isMethodSignature(d)) {
        sig = checker.getSignatureFromDeclaration(d);
        sigText = `${p.__static ? 'static ' : ''}${name}${checker.signatureToString(sig, d, FLAGS)}`;
      } else if (ts.isGetAccessorDeclaration(d)) {
        const setter = p.declarations.some((x) => ts.isSetAccessorDeclaration(x));
        sigText = `${setter ? '' : 'readonly '}${name}: ${typeText(p, d)}`;
      } else {
        const ro = mods & ts.ModifierFlags.Readonly ? 'readonly ' : '';
        const opt = p.flags & ts.SymbolFlags.Optional ? '?' : '';
        sigText = `${ro}${name}${opt}: ${typeText(p, d)}`;
      }
      const doc = sig ? docOf(p, sig, `${owner}.${name}`) : docOf(p, undefined, `${owner}.${name}`);
      out.push(`<a id="${id}"></a>\n#### \`${label}\`\n\n\`\`\`ts\n${sigText}\n\`\`\`\n\n${doc}`);
    }
    return out;
  }

  function exportMd(name, sym) {
    const decl = ownDecl(sym);
    const id = anchorId(name);
    anchors.set(sym, id);
    const head = `<a id="${id}"></a>\n### \`${name}\``;
    let code;
    let body = '';
    let extra = [];
    if (sym.flags & ts.SymbolFlags.Class) {
      // A base class of the engine (hrtimer extends lib/internal's TimerCore, which holds its
      // private fields) is an implementation detail: the reference shows only public bases.
      const isEngine = (t) => {
        const base = checker.getSymbolAtLocation(t.expression);
        const f = base && resolve(base).declarations?.[0]?.getSourceFile().fileName;
        return !!f && relative(root, f).startsWith('lib/internal/');
      };
      const heritage = (decl.heritageClauses ?? [])
        .map((h) => [h, h.types.filter((t) => !isEngine(t))])
        .filter(([, types]) => types.length > 0)
        .map(([h, types]) => ` ${ts.tokenToString(h.token)} ${types.map((t) => t.getText()).join(', ')}`)
        .join('');
      code = `class ${name}${heritage}`;
      body = docOf(sym, undefined, name);
      extra = members(sym, decl, name, true);
    } else if (sym.flags & ts.SymbolFlags.Interface) {
      code = `interface ${name}`;
      body = docOf(sym, undefined, name);
      extra = members(sym, decl, name, false);
    } else if (sym.flags & ts.SymbolFlags.TypeAlias) {
      code = `type ${name}${decl.typeParameters ? `<${decl.typeParameters.map((t) => t.getText()).join(', ')}>` : ''} = ${decl.type.getText()}`;
      body = docOf(sym, undefined, name);
    } else if (sym.flags & ts.SymbolFlags.Function) {
      const sigs = checker.getTypeOfSymbolAtLocation(sym, decl).getCallSignatures();
      code = signatures(sym, decl, name).join('\n');
      // Overloads: the implementation's doc, else the first overload's.
      body = docOf(sym, sigs.length > 1 ? undefined : sigs[0], name);
    } else if (sym.flags & ts.SymbolFlags.Variable) {
      const list = decl.parent;
      const kw = list && list.flags & ts.NodeFlags.Const ? 'const' : 'let';
      code = `${kw} ${name}: ${typeText(sym, decl)}`;
      body = docOf(sym, undefined, name);
    } else {
      code = name;
      body = docOf(sym, undefined, name);
    }
    return [`${head}\n\n\`\`\`ts\n${code}\n\`\`\`\n\n${body}`, ...extra].join('\n\n');
  }

  /** First paragraph of a file's head comment: the module summary. */
  function fileSummary(sf) {
    const m = /^\/\*\*([\s\S]*?)\*\//.exec(sf.text);
    if (!m) return '';
    const text = m[1].split('\n').map((l) => l.replace(/^\s*\* ?/, '')).join('\n').trim();
    return text.split(/\n\s*\n/)[0].replace(/\n/g, ' ');
  }

  const sections = [];
  const toc = [];
  for (const entry of entries) {
    const sf = program.getSourceFile(entry.file);
    const modSym = checker.getSymbolAtLocation(sf);
    const groups = new Map(); // file → [name, sym]
    const seeAlso = [];
    for (const exp of checker.getExportsOfModule(modSym)) {
      const sym = resolve(exp);
      if (isInternal(sym) || isInternal(exp)) continue;
      const decl = ownDecl(sym);
      if (!decl) continue;
      if (anchors.has(sym)) {
        seeAlso.push([exp.name, anchors.get(sym)]);
        continue;
      }
      // Something re-exported from lib/internal is documented with the public module that re-exports it
      // (lib/jiffies.ts for HZ, not lib/index.ts, which re-exports it from there).
      let file = relative(root, decl.getSourceFile().fileName);
      if (file.startsWith('lib/internal/')) file = publicHome(exp) ?? file;
      let pos = decl.getStart();
      const area = areaOf(file);
      if (area) {
        file = area.index;
        pos += area.rank * 1e9;
      }
      if (!groups.has(file)) groups.set(file, []);
      groups.get(file).push([exp.name, sym, pos]);
    }
    const entryId = anchorId(`module-${entry.spec}`);
    toc.push(`- [\`${entry.spec}\`](#${entryId})`);
    const parts = [`<a id="${entryId}"></a>\n## \`${entry.spec}\``, fileSummary(sf)];
    const rank = (f) => (GROUP_ORDER.indexOf(f) + 1 || GROUP_ORDER.length + 1);
    const ordered = [...groups].sort((a, b) => rank(a[0]) - rank(b[0]) || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    for (const [file, list] of ordered) {
      list.sort((a, b) => a[2] - b[2]);
      const summary = file === relative(root, entry.file) ? '' : fileSummary(program.getSourceFile(join(root, file)));
      const docs = list.map(([name, sym]) => exportMd(name, sym));
      toc.push(`  - ${file}: ${list.map(([name]) => `[\`${name}\`](#${anchors.get(list.find((x) => x[0] === name)[1])})`).join(', ')}`);
      parts.push(`---\n\n*From \`${file}\`${summary ? ` — ${summary}` : ''}*`, ...docs);
    }
    if (seeAlso.length) {
      parts.push(`Also exported here: ${seeAlso.map(([n, id]) => `[\`${n}\`](#${id})`).join(', ')} (documented above).`);
    }
    sections.push(parts.filter(Boolean).join('\n\n'));
  }

  const md = [
    '# ktimers API reference',
    '',
    '<!-- Generated by `npm run docs` (scripts/gen-docs.mjs) from the TSDoc in lib/. Do not edit: test/docs.test.ts fails when this file is stale. -->',
    '',
    'Every public export of each entry point in package.json `exports`. Kernel names follow the',
    "kernel's kernel-doc: **Context:** (where a call is allowed) and **Return:** (what it returns).",
    'Where ktimers differs from the kernel and from Node, see [docs/differences.md](differences.md).',
    '',
    ...toc,
    '',
    sections.join('\n\n'),
    '',
  ].join('\n');
  return { md: finishLinks(md).replace(/[ \t]+\n/g, '\n').replace(/\n{3,}/g, '\n\n'), undocumented };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes('--check');
  const { md, undocumented } = generate();
  if (undocumented.length) {
    console.error(`Exports without TSDoc (${undocumented.length}):\n  ${undocumented.join('\n  ')}`);
    if (check) process.exitCode = 1;
  }
  if (check) {
    let old = '';
    try {
      old = readFileSync(OUT, 'utf8');
    } catch {}
    if (old !== md) {
      console.error('docs/api.md is stale: run `npm run docs` and commit it.');
      process.exitCode = 1;
    }
  } else {
    mkdirSync(dirname(OUT), { recursive: true });
    writeFileSync(OUT, md);
    console.log(`wrote ${relative(root, OUT)} (${md.length} bytes)${undocumented.length ? `; ${undocumented.length} exports lack TSDoc` : ''}`);
  }
}
