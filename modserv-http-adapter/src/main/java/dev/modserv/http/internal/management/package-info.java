/** The management dialect ({@code /models}), served with a model root. */
@NullMarked
package dev.modserv.http.internal.management;

import org.jspecify.annotations.NullMarked;
