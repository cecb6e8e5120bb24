/**
 * What LazyRequest and LazyResponse share: every member of the web class they stand in for that
 * they do not answer themselves is answered by the real object, built on first need.
 */
export function delegateToReal<Lazy extends object>(
  lazyClass: { prototype: Lazy },
  realClass: { prototype: object },
  realSample: object,
  materialize: (lazy: Lazy) => object,
): void {
  const lazyPrototype = lazyClass.prototype;
  const answered = new Set<PropertyKey>(Reflect.ownKeys(lazyPrototype));
  for (const key of Reflect.ownKeys(realClass.prototype)) {
    if (answered.has(key) || key === Symbol.toStringTag) continue;
    const descriptor = Object.getOwnPropertyDescriptor(realClass.prototype, key)!;
    if (typeof descriptor.value === "function") {
      const method = descriptor.value as (...args: unknown[]) => unknown;
      Object.defineProperty(lazyPrototype, key, {
        value(this: Lazy, ...args: unknown[]) {
          return method.apply(materialize(this), args);
        },
        writable: true,
        configurable: true,
      });
    } else if (descriptor.get) {
      const getter = descriptor.get;
      Object.defineProperty(lazyPrototype, key, {
        get(this: Lazy) {
          return getter.call(materialize(this));
        },
        configurable: true,
      });
    }
  }
  // undici keeps its state in symbol-keyed slots of each instance; forwarding them lets undici
  // functions (new Request(lazy), new Response(lazy.body)…) accept the lazy object.
  for (const symbol of Object.getOwnPropertySymbols(realSample)) {
    if (answered.has(symbol)) continue;
    Object.defineProperty(lazyPrototype, symbol, {
      get(this: Lazy) {
        return (materialize(this) as Record<symbol, unknown>)[symbol];
      },
    });
  }
  Object.setPrototypeOf(lazyPrototype, realClass.prototype);
}
