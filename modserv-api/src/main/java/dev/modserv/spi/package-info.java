/**
 * The engine SPI: a {@link dev.modserv.spi.BackendProvider} is found through {@link
 * java.util.ServiceLoader} or passed explicitly, its {@link dev.modserv.spi.Backend} loads a
 * {@link dev.modserv.spi.ModelSource} into a {@link dev.modserv.spi.LoadedModel}.
 */
@NullMarked
package dev.modserv.spi;

import org.jspecify.annotations.NullMarked;
