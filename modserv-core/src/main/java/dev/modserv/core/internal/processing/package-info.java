/**
 * Pre- and post-processing behind {@code ModelProcessing}: the operations, the reading of their
 * map form and the classification rendering; not API.
 */
@NullMarked
package dev.modserv.core.internal.processing;

import org.jspecify.annotations.NullMarked;
