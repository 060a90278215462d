/**
 * JSON Schema (2020-12) of TypeScript types, read with the TypeScript checker: what server/contract-schemas.ts
 * holds for the socket.io server messages and the JSON answers of the read routes, which are types
 * (core/protocol.ts, server/api-responses.ts) rather than zod schemas. A test tool (typescript is a dev
 * dependency): test/openapi.test.ts regenerates it and compares.
 *
 * Covers what core/protocol.ts uses: primitives, literal unions (as `enum`), `T | null`, arrays, interfaces
 * and type literals (optional members not required, doc comments as `description`), `Record<K, V>` over a
 * literal union (its keys as properties) or over string (`additionalProperties`), intersections of objects.
 * Named interfaces and aliases become `$defs`-style entries under `defs`, referred to by `#/components/schemas/<Name>`; anything else throws.
 */
import ts from 'typescript';

export interface SchemaSet {
  /** Per interface asked for, one schema per member (a `$ref` into `defs`, or inline). */
  roots: Record<string, Record<string, unknown>>;
  /** The named types they use, shared. */
  defs: Record<string, unknown>;
}

export interface InterfaceAsked {
  file: string;
  name: string;
  /**
   * `payload`: each member is a function (a socket.io event map) and its first parameter is described;
   * `type`: each member's own type is.
   */
  members: 'payload' | 'type';
}

/** JSON Schemas of the members of each interface asked for, read from one program. */
export function interfaceSchemas(asked: InterfaceAsked[]): SchemaSet {
  const options = { strict: true, allowImportingTsExtensions: true, noEmit: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022 };
  const program = ts.createProgram(asked.map((a) => a.file), options);
  const checker = program.getTypeChecker();
  const defs: Record<string, unknown> = {};
  const { convert, doc } = converter(checker, defs);
  const roots: SchemaSet['roots'] = {};
  for (const { file, name, members } of asked) {
    const source = program.getSourceFile(file) ?? fail(`cannot read ${file}`);
    const decl = source.statements.find((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === name) ?? fail(`${file} has no interface ${name}`);
    const out: Record<string, unknown> = (roots[name] = {});
    for (const member of checker.getTypeAtLocation(decl).getProperties()) {
      const type = checker.getTypeOfSymbol(member);
      let schema: unknown;
      if (members === 'type') schema = convert(type);
      else {
        const sig = type.getCallSignatures()[0] ?? fail(`${name}.${member.name} is not a function`);
        const param = sig.getParameters()[0] ?? fail(`${name}.${member.name} takes no payload`);
        schema = convert(checker.getTypeOfSymbol(param));
      }
      // The member's own doc comment (an event's or a route's) goes with its schema.
      const description = doc(member);
      out[member.name] = description ? { description, ...(schema as object) } : schema;
    }
  }
  return { roots, defs };
}

const REF = (name: string) => ({ $ref: `#/components/schemas/${name}` });

function fail(msg: string): never {
  throw new Error(`ts-json-schema: ${msg}`);
}

function converter(checker: ts.TypeChecker, defs: Record<string, unknown>) {
  const fromLib = (sym: ts.Symbol) => {
    const file = sym.declarations?.[0]?.getSourceFile().fileName ?? '';
    return file.includes('node_modules') || file.includes('/typescript/lib/');
  };
  const doc = (sym: ts.Symbol) => (fromLib(sym) ? '' : ts.displayPartsToString(sym.getDocumentationComment(checker)).replace(/\s+/g, ' ').trim());

  /** A named interface or alias from the project (not the standard library's Record and friends). */
  const nameOf = (t: ts.Type): string | null => {
    const sym = t.aliasSymbol ?? (t.flags & ts.TypeFlags.Object && (t as ts.ObjectType).objectFlags & ts.ObjectFlags.Interface ? t.symbol : undefined);
    return sym && !fromLib(sym) ? sym.name : null;
  };

  function convert(t: ts.Type): unknown {
    const name = nameOf(t);
    if (name) {
      if (!(name in defs)) {
        defs[name] = {}; // a placeholder first: a type that refers to itself stops here
        defs[name] = shape(t);
      }
      return REF(name);
    }
    return shape(t);
  }

  function shape(t: ts.Type): unknown {
    if (t.flags & ts.TypeFlags.String) return { type: 'string' };
    if (t.flags & ts.TypeFlags.Number) return { type: 'number' };
    if (t.flags & ts.TypeFlags.Boolean) return { type: 'boolean' };
    if (t.flags & ts.TypeFlags.Null) return { type: 'null' };
    if (t.isStringLiteral()) return { const: t.value };
    if (t.isNumberLiteral()) return { const: t.value };
    if (t.flags & ts.TypeFlags.BooleanLiteral) return { const: checker.typeToString(t) === 'true' };
    if (t.isUnion()) return union(t.types.filter((m) => !(m.flags & ts.TypeFlags.Undefined)));
    if (checker.isArrayType(t)) return { type: 'array', items: convert(checker.getTypeArguments(t as ts.TypeReference)[0]!) };
    if (t.flags & ts.TypeFlags.Object || t.isIntersection()) return object(t);
    return fail(`cannot describe ${checker.typeToString(t)}`);
  }

  function union(members: ts.Type[]): unknown {
    const literals = members.filter((m): m is ts.StringLiteralType | ts.NumberLiteralType => m.isStringLiteral() || m.isNumberLiteral());
    const bools = members.filter((m) => m.flags & ts.TypeFlags.BooleanLiteral);
    const rest = members.filter((m) => !(literals as ts.Type[]).includes(m) && !bools.includes(m));
    const parts: unknown[] = [];
    if (literals.length) parts.push({ enum: literals.map((m) => m.value) });
    if (bools.length === 2) parts.push({ type: 'boolean' });
    else if (bools.length === 1) parts.push(shape(bools[0]!));
    parts.push(...rest.map(convert));
    return parts.length === 1 ? parts[0] : { anyOf: parts };
  }

  function object(t: ts.Type): unknown {
    const properties: Record<string, unknown> = {};
    const required: string[] = [];
    for (const p of checker.getPropertiesOfType(t)) {
      const decl = p.valueDeclaration ?? p.declarations?.[0];
      const pt = decl ? checker.getTypeOfSymbolAtLocation(p, decl) : checker.getTypeOfSymbol(p);
      const s = convert(pt) as Record<string, unknown>;
      const description = doc(p);
      properties[p.name] = description ? { description, ...s } : s;
      if (!(p.flags & ts.SymbolFlags.Optional)) required.push(p.name);
    }
    const index = checker.getIndexInfoOfType(t, ts.IndexKind.String);
    const out: Record<string, unknown> = { type: 'object' };
    if (required.length || !index) Object.assign(out, { properties, required });
    out.additionalProperties = index ? convert(index.type) : false;
    const description = t.aliasSymbol || t.symbol ? doc(t.aliasSymbol ?? t.symbol) : '';
    return description ? { description, ...out } : out;
  }

  return { convert, doc };
}
