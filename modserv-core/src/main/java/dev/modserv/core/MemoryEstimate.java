package dev.modserv.core;

/**
 * What a model would take once loaded, told from its files without loading it ({@link
 * ModelServer#estimateMemory}).
 *
 * @param engine the engine that would load it
 * @param modelBytes the model's own memory: declared in its configuration, else the engine's
 *     estimate
 * @param declared whether {@code modelBytes} was declared ({@link ModelConfig#memoryBytes()})
 * @param engineRuntimeBytes what the engine's runtime takes once per process on top, whatever the
 *     number of models ({@link dev.modserv.spi.Backend#runtimeBytes()})
 * @param usesGpu whether the engine, as built, can run the model on a GPU
 */
public record MemoryEstimate(String engine, long modelBytes, boolean declared,
    long engineRuntimeBytes, boolean usesGpu) {}
