"""Live market feeds behind one port (:mod:`.port`): ccxt, CoinGecko and replay adapters,
canonical live bars (:mod:`.bars`), retry and outages (:mod:`.retry`), the ``[live]`` config
(:mod:`.config`) and the factory (:mod:`.factory`). See docs/feeds.md.

Nothing is imported here, so ``import scarline.market.feeds.port`` stays light and ccxt or
httpx load only when a feed of theirs is built.
"""
